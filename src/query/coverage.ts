/**
 * Coverage: when the stream was there to see posts. Ingest records the stream's state changes as
 * events (src/pipeline/coverage-recorder.ts); a query turns them into the share of each bucket the
 * stream covered, so that a hole in the series reads as "the stream was down", not "nobody posted".
 *
 * A state holds from its event until the next. While connected, ingest repeats the event every
 * COVERAGE_HEARTBEAT_MS: a connected state with no event for COVERAGE_STALE_MS (a crashed or killed
 * ingest says nothing more) counts as covered only up to that bound.
 */
export const COVERAGE_STATES = ['connected', 'disconnected', 'paused', 'capped', 'stopped'] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

export interface CoverageEvent {
  /** Epoch ms. */
  readonly at: number;
  /**
   * connected: reading the stream; disconnected: the connection ended and is being replaced;
   * paused: the post budget governor holds the stream back; capped: X's usage cap is spent;
   * stopped: ingest shut down.
   */
  readonly state: CoverageState;
  /** Why, in words (the disconnect cause, the budget's numbers). */
  readonly detail: string;
}

export const COVERAGE_HEARTBEAT_MS = 30_000;
/** Most events one query reads: a heartbeat every 30 s is 2,880 a day; a month is about 90,000. */
export const MAX_COVERAGE_EVENTS = 200_000;
export const COVERAGE_STALE_MS = 3 * COVERAGE_HEARTBEAT_MS;

export const isCoverageState = (s: unknown): s is CoverageState => typeof s === 'string' && (COVERAGE_STATES as readonly string[]).includes(s);

/**
 * Covered milliseconds of [start, end) per the events (sorted by time; the events before `start`
 * that matter are the last one before it). Time after `now` is not counted either way.
 * Returns null when no event precedes `end` (nothing is known about the bucket).
 */
export function coveredShare(events: readonly CoverageEvent[], start: number, end: number, now: number): number | null {
  const until = Math.min(end, now);
  if (until <= start) return null;
  let known = false;
  let covered = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as CoverageEvent;
    if (e.at >= until) break;
    known = true;
    if (e.state !== 'connected') continue;
    const next = events[i + 1];
    const stateEnd = Math.min(next === undefined ? Infinity : next.at, e.at + COVERAGE_STALE_MS, until);
    const from = Math.max(e.at, start);
    if (stateEnd > from) covered += stateEnd - from;
  }
  return known ? Math.min(1, covered / (until - start)) : null;
}

/**
 * The covered share of each bucket start (epoch ms) of `widthMs`, as coveredShare gives it, in one
 * sweep over the events: the buckets in time order and a cursor that only moves forward, so a month
 * of heartbeats (about 90,000 events) over thousands of buckets costs events + buckets, not their product.
 */
export function coverageOfBuckets(events: readonly CoverageEvent[], starts: readonly number[], widthMs: number, now: number): (number | null)[] {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const order = starts.map((_, i) => i).sort((a, b) => (starts[a] as number) - (starts[b] as number));
  const out: (number | null)[] = new Array<number | null>(starts.length).fill(null);
  // First event whose state may still reach into the bucket (its state ends after the bucket starts).
  let cursor = 0;
  const stateEnd = (i: number): number => {
    const e = sorted[i] as CoverageEvent;
    const next = sorted[i + 1];
    return Math.min(next === undefined ? Infinity : next.at, e.at + COVERAGE_STALE_MS);
  };
  for (const index of order) {
    const start = starts[index] as number;
    const until = Math.min(start + widthMs, now);
    if (until <= start || sorted.length === 0 || (sorted[0] as CoverageEvent).at >= until) continue;
    while (cursor < sorted.length - 1 && stateEnd(cursor) <= start) cursor++;
    let covered = 0;
    for (let i = cursor; i < sorted.length && (sorted[i] as CoverageEvent).at < until; i++) {
      if ((sorted[i] as CoverageEvent).state !== 'connected') continue;
      const from = Math.max((sorted[i] as CoverageEvent).at, start);
      const to = Math.min(stateEnd(i), until);
      if (to > from) covered += to - from;
    }
    out[index] = Math.min(1, covered / (until - start));
  }
  return out;
}

/** Most buckets a coverage timeline lists (a query of 1-second buckets over a month would be 2.6 M). */
export const MAX_COVERAGE_BUCKETS = 10_000;

export interface BucketCoverage {
  /** Bucket start, ISO 8601 UTC. */
  readonly bucketStart: string;
  /** Share of the bucket the stream covered, 0..1; null when nothing was recorded about it. */
  readonly covered: number | null;
}

/**
 * The covered share of every bucket of [from, to) (aligned as the stores align buckets: multiples
 * of the width since the epoch), empty ones included: a gap is usually a bucket without posts.
 * Undefined when the range holds more than MAX_COVERAGE_BUCKETS buckets.
 */
export function coverageTimeline(events: readonly CoverageEvent[], from: number, to: number, widthMs: number, now: number): BucketCoverage[] | undefined {
  const first = Math.floor(from / widthMs) * widthMs;
  const count = Math.ceil((to - first) / widthMs);
  if (count > MAX_COVERAGE_BUCKETS) return undefined;
  const starts = Array.from({ length: Math.max(0, count) }, (_, i) => first + i * widthMs);
  const shares = coverageOfBuckets(events, starts, widthMs, now);
  return starts.map((start, i) => ({ bucketStart: new Date(start).toISOString(), covered: shares[i] ?? null }));
}
