/**
 * Coverage: when the stream was there to see posts. Ingest records the stream's state changes as
 * events (src/pipeline/coverage-recorder.ts); a query turns them into the share of each bucket the
 * stream covered, so that a hole in the series reads as "the stream was down", not "nobody posted".
 *
 * A state holds from its event until the next. While connected, ingest repeats the event every
 * COVERAGE_HEARTBEAT_MS: a connected state with no event for COVERAGE_STALE_MS (a crashed or killed
 * ingest says nothing more) counts as covered only up to that bound.
 */
export const COVERAGE_STATES = ['connected', 'disconnected', 'paused', 'capped', 'stopped', 'backfilled'] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

export interface CoverageEvent {
  /** Epoch ms. */
  readonly at: number;
  /**
   * connected: reading the stream; disconnected: the connection ended and is being replaced;
   * paused: the post budget governor holds the stream back; capped: X's usage cap is spent;
   * stopped: ingest shut down. backfilled is not a state of the stream but a fill after the fact:
   * [at, until) was read from recent search (every matching post of it, within the budget), so it
   * counts as covered whatever the stream's state was then.
   */
  readonly state: CoverageState;
  /** Why, in words (the disconnect cause, the budget's numbers, what a backfill read). */
  readonly detail: string;
  /** backfilled: the end of the interval filled; capped: when X's usage cap resets (epoch ms). */
  readonly until?: number;
}

export const COVERAGE_HEARTBEAT_MS = 30_000;
/** Most events one query reads: a heartbeat every 30 s is 2,880 a day; a month is about 90,000. */
export const MAX_COVERAGE_EVENTS = 200_000;
export const COVERAGE_STALE_MS = 3 * COVERAGE_HEARTBEAT_MS;

export const isCoverageState = (s: unknown): s is CoverageState => typeof s === 'string' && (COVERAGE_STATES as readonly string[]).includes(s);

/** A fill after the fact, not a change of the stream's state (readers keep it out of "the state before the range"). */
export const isFill = (e: CoverageEvent): boolean => e.state === 'backfilled';

/**
 * Covered milliseconds of [start, end) per the events, as a share. Time after `now` is not counted
 * either way. Returns null when no event precedes `end` (nothing is known about the bucket).
 */
export function coveredShare(events: readonly CoverageEvent[], start: number, end: number, now: number): number | null {
  return coverageOfBuckets(events, [start], end - start, now)[0] ?? null;
}

/**
 * The stretches of time covered, sorted and disjoint: each connected state from its event until the
 * next state event (or COVERAGE_STALE_MS after it, when no heartbeat followed), united with the
 * intervals backfilled.
 */
function coveredIntervals(events: readonly CoverageEvent[]): [number, number][] {
  const states = events.filter((e) => !isFill(e)).sort((a, b) => a.at - b.at);
  const raw: [number, number][] = [];
  for (let i = 0; i < states.length; i++) {
    const e = states[i] as CoverageEvent;
    if (e.state !== 'connected') continue;
    const next = states[i + 1];
    raw.push([e.at, Math.min(next === undefined ? Infinity : next.at, e.at + COVERAGE_STALE_MS)]);
  }
  for (const e of events) if (isFill(e) && e.until !== undefined && e.until > e.at) raw.push([e.at, e.until]);
  raw.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of raw) {
    const last = merged.at(-1);
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/**
 * The covered share of each bucket start (epoch ms) of `widthMs`, in one sweep: the covered
 * intervals and the buckets in time order, with a cursor that only moves forward, so a month of
 * heartbeats (about 90,000 events) over thousands of buckets costs events + buckets, not their product.
 * A bucket is null when no event (of any kind) precedes its end.
 */
export function coverageOfBuckets(events: readonly CoverageEvent[], starts: readonly number[], widthMs: number, now: number): (number | null)[] {
  const intervals = coveredIntervals(events);
  let firstKnown = Infinity;
  for (const e of events) firstKnown = Math.min(firstKnown, e.at);
  const order = starts.map((_, i) => i).sort((a, b) => (starts[a] as number) - (starts[b] as number));
  const out: (number | null)[] = new Array<number | null>(starts.length).fill(null);
  // First interval that may still reach into the bucket (it ends after the bucket starts).
  let cursor = 0;
  for (const index of order) {
    const start = starts[index] as number;
    const until = Math.min(start + widthMs, now);
    if (until <= start || firstKnown >= until) continue;
    while (cursor < intervals.length && (intervals[cursor] as [number, number])[1] <= start) cursor++;
    let covered = 0;
    for (let i = cursor; i < intervals.length && (intervals[i] as [number, number])[0] < until; i++) {
      const [from, to] = intervals[i] as [number, number];
      const overlap = Math.min(to, until) - Math.max(from, start);
      if (overlap > 0) covered += overlap;
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
