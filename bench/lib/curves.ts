/**
 * Latency estimated from two cumulative counts sampled over time — posts ingested I(t) and posts
 * stored S(t) — for stores whose rows carry no stage timestamps (InfluxDB). Assuming posts leave
 * roughly in the order they came (FIFO), the k-th post was ingested at I⁻¹(k) and stored at
 * S⁻¹(k); its latency is the difference. Linear interpolation between samples; the resolution
 * is the sampling interval, and reordering across partitions makes single values approximate.
 */
import { quantileSorted } from './stats.js';

export interface CountSample {
  /** performance.now() ms. */
  readonly t: number;
  readonly count: number;
}

/** First time the count reaches k (linear between samples); undefined if it never does. */
function inverse(samples: readonly CountSample[], k: number, from: number): { t: number | undefined; index: number } {
  for (let i = Math.max(1, from); i < samples.length; i++) {
    const b = samples[i] as CountSample;
    if (b.count >= k) {
      const a = samples[i - 1] as CountSample;
      const t = b.count === a.count ? b.t : a.t + ((k - a.count) / (b.count - a.count)) * (b.t - a.t);
      return { t, index: i };
    }
  }
  return { t: undefined, index: samples.length };
}

export function curveLatencies(ingested: readonly CountSample[], stored: readonly CountSample[], posts: number, step = 1): number[] {
  const out: number[] = [];
  let iI = 1;
  let iS = 1;
  for (let k = 1; k <= posts; k += step) {
    const a = inverse(ingested, k, iI);
    const b = inverse(stored, k, iS);
    iI = a.index;
    iS = b.index;
    if (a.t === undefined || b.t === undefined) break;
    out.push(Math.max(0, b.t - a.t));
  }
  return out.sort((x, y) => x - y);
}

export function curveQuantiles(latencies: readonly number[]): { p50: number; p95: number; p99: number; max: number } {
  return {
    p50: quantileSorted(latencies, 0.5),
    p95: quantileSorted(latencies, 0.95),
    p99: quantileSorted(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
  };
}

/** Posts/s at which the ingested count rose from its first post to all `posts`. */
export function curveRate(ingested: readonly CountSample[], posts: number): number {
  const first = inverse(ingested, 1, 1).t;
  const last = inverse(ingested, posts, 1).t;
  return first === undefined || last === undefined || last <= first ? Number.NaN : (posts - 1) / ((last - first) / 1000);
}

/** Lag of the k-th stored post behind its due time t0 + k/rate, from the stored count curve. */
export function curveLags(
  ingested: readonly CountSample[],
  stored: readonly CountSample[],
  posts: number,
  rate: number,
  step = 1,
): { p50: number; p99: number; max: number; end: number } {
  const t0 = inverse(ingested, 1, 1).t;
  if (t0 === undefined) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, end: Number.NaN };
  const lags: number[] = [];
  let at = 1;
  for (let k = 1; k <= posts; k += step) {
    const s = inverse(stored, k, at);
    at = s.index;
    if (s.t === undefined) break;
    lags.push(s.t - (t0 + ((k - 1) * 1000) / rate));
  }
  const end = lags[lags.length - 1] ?? Number.NaN;
  lags.sort((a, b) => a - b);
  return { p50: quantileSorted(lags, 0.5), p99: quantileSorted(lags, 0.99), max: lags[lags.length - 1] ?? Number.NaN, end };
}
