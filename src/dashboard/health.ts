import type { Sample } from './samples.js';

/** Where a set of samples came from (this process, or a role's /metrics URL) and whether it answered. */
export interface SampleSource {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface PipelineHealth {
  readonly at: string;
  readonly sources: readonly SampleSource[];
  /** crowdpulse_posts_total, summed per (stage, direction) over every source; the page turns them into rates. */
  readonly posts: readonly { readonly stage: string; readonly direction: string; readonly total: number }[];
  readonly deadLetters: readonly { readonly stage: string; readonly code: string; readonly total: number }[];
  readonly queues: readonly { readonly source: string; readonly queue: string; readonly depth: number; readonly capacity: number | null }[];
  /** Consumer lag per (group, topic), summed over partitions; null when no source exports it. */
  readonly consumerLag: readonly { readonly group: string; readonly topic: string; readonly messages: number }[] | null;
  /** The X post-budget governor; null when no process runs it (cap 0 or absent). */
  readonly budget: {
    readonly capPosts: number;
    readonly consumedPosts: number;
    readonly remainingPosts: number;
    readonly headroomPosts: number | null;
    readonly periodEnd: string | null;
  } | null;
  /** The X stream connection; null when no process has used one. */
  readonly stream: { readonly connected: boolean } | null;
}

const byName = (samples: readonly Sample[], name: string): Sample[] => samples.filter((s) => s.name === name);

function sumBy<K extends string>(samples: readonly Sample[], keys: readonly K[]): { labels: Record<K, string>; total: number }[] {
  const groups = new Map<string, { labels: Record<K, string>; total: number }>();
  for (const s of samples) {
    const labels = Object.fromEntries(keys.map((k) => [k, s.labels[k] ?? ''])) as Record<K, string>;
    const key = JSON.stringify(labels);
    const group = groups.get(key) ?? { labels, total: 0 };
    group.total += s.value;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
}

/** The largest value of an unlabelled metric among `samples`. */
const single = (samples: readonly Sample[], name: string): number | undefined => {
  const values = byName(samples, name).map((s) => s.value);
  return values.length === 0 ? undefined : Math.max(...values);
};

/**
 * Pipeline health from metric samples of one or more processes: throughput counters, dead letters,
 * queue depths, Kafka consumer lag and the X budget governor, each present only where some process
 * exports it.
 */
export function healthFromSamples(
  perSource: readonly { readonly source: SampleSource; readonly samples: readonly Sample[] }[],
  at = new Date(),
): PipelineHealth {
  const all = perSource.flatMap((p) => p.samples);
  const posts = sumBy(byName(all, 'crowdpulse_posts_total'), ['stage', 'direction'] as const).map((g) => ({
    stage: g.labels.stage,
    direction: g.labels.direction,
    total: g.total,
  }));
  const deadLetters = sumBy(byName(all, 'crowdpulse_dead_letters_total'), ['stage', 'code'] as const).map((g) => ({
    stage: g.labels.stage,
    code: g.labels.code,
    total: g.total,
  }));
  const queues = perSource.flatMap(({ source, samples }) => {
    const capacity = new Map(byName(samples, 'crowdpulse_queue_capacity').map((s) => [s.labels.queue ?? '', s.value]));
    return byName(samples, 'crowdpulse_queue_depth').map((s) => ({
      source: source.name,
      queue: s.labels.queue ?? '',
      depth: s.value,
      capacity: capacity.get(s.labels.queue ?? '') ?? null,
    }));
  });
  const lagSamples = byName(all, 'crowdpulse_kafka_consumer_lag_messages');
  const consumerLag =
    lagSamples.length === 0
      ? null
      : sumBy(lagSamples, ['group', 'topic'] as const).map((g) => ({ group: g.labels.group, topic: g.labels.topic, messages: g.total }));
  // Unlabelled gauges read 0 in every process that loads their module: the governor's numbers are
  // those of the process whose cap is set (cap 0 = no governor).
  const governor = perSource.map((p) => p.samples).find((samples) => (single(samples, 'crowdpulse_x_budget_cap_posts') ?? 0) > 0);
  const periodEnd = governor && single(governor, 'crowdpulse_x_budget_period_end_timestamp_seconds');
  const budget =
    governor === undefined
      ? null
      : {
          capPosts: single(governor, 'crowdpulse_x_budget_cap_posts') ?? 0,
          consumedPosts: single(governor, 'crowdpulse_x_budget_consumed_posts') ?? 0,
          remainingPosts: single(governor, 'crowdpulse_x_budget_remaining_posts') ?? 0,
          headroomPosts: single(governor, 'crowdpulse_x_budget_headroom_posts') ?? null,
          periodEnd: periodEnd === undefined || periodEnd <= 0 ? null : new Date(periodEnd * 1000).toISOString(),
        };
  const connected = single(all, 'crowdpulse_x_stream_connected');
  const streamSeen =
    connected === 1 ||
    byName(all, 'crowdpulse_x_stream_messages_total').some((x) => x.value > 0) ||
    byName(all, 'crowdpulse_x_stream_reconnects_total').some((x) => x.value > 0);
  return {
    at: at.toISOString(),
    sources: perSource.map((p) => p.source),
    posts,
    deadLetters,
    queues,
    consumerLag,
    budget,
    stream: streamSeen ? { connected: connected === 1 } : null,
  };
}
