/**
 * librdkafka statistics (statistics.interval.ms → 'event.stats' JSON) reduced to what crowdpulse
 * reads: broker connectivity, group state, and per-partition consumer lag.
 */
export interface KafkaHealth {
  /** At least one real broker (not the bootstrap placeholder) is UP. */
  readonly brokerUp: boolean;
  /** Consumer group state is "up" and the join is steady (a member with an assignment, possibly empty). */
  readonly groupJoined: boolean;
  readonly lag: readonly { topic: string; partition: number; lag: number }[];
}

interface RawStats {
  brokers?: Record<string, { nodeid?: number; state?: string }>;
  cgrp?: { state?: string; join_state?: string };
  topics?: Record<
    string,
    { partitions?: Record<string, { partition?: number; hi_offset?: number; lo_offset?: number; committed_offset?: number; fetch_state?: string }> }
  >;
}

export function parseStats(json: string): KafkaHealth | undefined {
  let raw: RawStats;
  try {
    raw = JSON.parse(json) as RawStats;
  } catch {
    return undefined;
  }
  const brokerUp = Object.values(raw.brokers ?? {}).some((b) => (b.nodeid ?? -1) >= 0 && b.state === 'UP');
  const groupJoined = raw.cgrp?.state === 'up' && raw.cgrp.join_state === 'steady';
  const lag: { topic: string; partition: number; lag: number }[] = [];
  for (const [topic, t] of Object.entries(raw.topics ?? {})) {
    for (const p of Object.values(t.partitions ?? {})) {
      // -1 is librdkafka's internal UA partition; lag -1 means unknown (not assigned / nothing committed).
      if (p.partition === undefined || p.partition < 0 || p.fetch_state === 'none' || p.fetch_state === 'stopped') continue;
      // librdkafka's own consumer_lag is -1 until the group has committed; from the log start then.
      const hi = p.hi_offset ?? -1;
      const from = (p.committed_offset ?? -1) >= 0 ? (p.committed_offset as number) : (p.lo_offset ?? -1);
      if (hi >= 0 && from >= 0) lag.push({ topic, partition: p.partition, lag: Math.max(0, hi - from) });
    }
  }
  return { brokerUp, groupJoined, lag };
}
