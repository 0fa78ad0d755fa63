/** Throughput, latency and lag of one run, from per-post ingest and store times (epoch ms). */
import { quantileSorted } from './stats.js';

export interface Timing {
  /** First post ingested → last post stored, seconds. */
  readonly seconds: number;
  readonly postsPerSecond: number;
  /** Ingest → store per post, ms. */
  readonly latencyP50Ms: number;
  readonly latencyP95Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  /** Posts/s at which the source actually ingested (first → last ingest time). */
  readonly ingestPostsPerSecond?: number;
  /** Kafka → SQLite only: the polled-count latency estimate (what InfluxDB runs use), for comparison. */
  readonly estimatedLatencyP50Ms?: number;
  readonly estimatedLatencyP99Ms?: number;
  /** Epoch ms of the first ingest and the last store. */
  readonly startMs?: number;
  readonly endMs?: number;
  /** Rate runs only: stored time − the time the post was due by the target rate schedule, ms. */
  readonly lagP50Ms?: number;
  readonly lagP99Ms?: number;
  readonly lagMaxMs?: number;
  /** Rate runs only: lag of the last post (how far behind the schedule the store ended). */
  readonly lagEndMs?: number;
}

export function timingOf(
  ids: readonly string[],
  times: ReadonlyMap<string, { readonly ingestedAt: number; readonly storedAt: number }>,
  rate?: number,
): Timing {
  let firstIngest = Infinity;
  let lastIngest = -Infinity;
  let lastStored = -Infinity;
  const latencies: number[] = [];
  for (const t of times.values()) {
    firstIngest = Math.min(firstIngest, t.ingestedAt);
    lastIngest = Math.max(lastIngest, t.ingestedAt);
    lastStored = Math.max(lastStored, t.storedAt);
    latencies.push(t.storedAt - t.ingestedAt);
  }
  latencies.sort((a, b) => a - b);
  const seconds = Math.max(1e-3, (lastStored - firstIngest) / 1000);
  const base: Timing = {
    seconds,
    postsPerSecond: times.size / seconds,
    latencyP50Ms: quantileSorted(latencies, 0.5),
    latencyP95Ms: quantileSorted(latencies, 0.95),
    latencyP99Ms: quantileSorted(latencies, 0.99),
    latencyMaxMs: latencies[latencies.length - 1] ?? Number.NaN,
    ingestPostsPerSecond: times.size / Math.max(1e-3, (lastIngest - firstIngest) / 1000),
    startMs: firstIngest,
    endMs: lastStored,
  };
  if (rate === undefined) return base;
  const lags: number[] = [];
  ids.forEach((id, i) => {
    const t = times.get(id);
    if (t) lags.push(t.storedAt - (firstIngest + (i * 1000) / rate));
  });
  const lagEndMs = lags[lags.length - 1] ?? Number.NaN;
  lags.sort((a, b) => a - b);
  return {
    ...base,
    lagP50Ms: quantileSorted(lags, 0.5),
    lagP99Ms: quantileSorted(lags, 0.99),
    lagMaxMs: lags[lags.length - 1] ?? Number.NaN,
    lagEndMs,
  };
}
