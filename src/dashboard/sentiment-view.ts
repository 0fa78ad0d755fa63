import type { Label } from '../contract/index.js';
import { DEFAULT_MIN_POSTS, type Uncertainty } from '../query/intervals.js';
import type { SentimentQuery, TopicSummary } from '../query/sentiment-query.js';
import type { Filters } from '../query/filters.js';
import { coverageTimeline, isFill, type CoverageEvent, type CoverageState } from '../query/coverage.js';
import type { ShiftEvent } from '../query/shift-event.js';

/** Bucket widths the dashboard chooses from, seconds (round numbers a reader recognises). */
export const BUCKET_WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800] as const;

/** The smallest listed width that covers `spanSeconds` in at most `maxPoints` buckets. */
export function chooseBucketSeconds(spanSeconds: number, maxPoints: number): number {
  const points = Math.max(1, Math.floor(maxPoints));
  for (const width of BUCKET_WIDTHS) if (spanSeconds / width <= points) return width;
  return Math.ceil(spanSeconds / points);
}

export interface SentimentViewRequest extends Filters {
  /** Seconds of data to show, ending at `at`; 'all' = everything stored. */
  readonly window: number | 'all';
  /** End of a numeric window, epoch ms: the clock (now) unless a time is asked for, never the newest post. */
  readonly at?: number;
  /** Most buckets per topic. */
  readonly points: number;
  /** Topics to chart; none = the `top` topics by volume in the window. */
  readonly topics?: readonly string[];
  readonly top: number;
}

/** One bucket as charted, with how sure it is (the mean's and the shares' 95 % intervals, src/query/intervals.ts). */
export interface SeriesPoint extends Pick<Uncertainty, 'meanScoreCi95' | 'sharesCi95' | 'tooFewPosts'> {
  /** Bucket start, ISO 8601 UTC. */
  readonly t: string;
  readonly count: number;
  readonly opinions: number;
  readonly meanScore: number;
  readonly shares: Readonly<Record<Label, number>>;
}

/** Rows of the per-topic table at most: a store may hold 200,000 topics, the page shows the biggest. */
export const MAX_SUMMARIES = 50;
/** Shifts one view lists at most. */
export const MAX_VIEW_SHIFTS = 500;
/** Topics charted at once at most, whether asked for by name or taken by volume. */
export const MAX_CHARTED = 50;

export interface SentimentView {
  /** Newest stored post's time; null when the store is empty. */
  readonly dataEnd: string | null;
  /** The charted range [from, to), aligned to the bucket width. */
  readonly from: string | null;
  readonly to: string | null;
  readonly bucketSeconds: number;
  /** Buckets of fewer opinions are marked tooFewPosts. */
  readonly minPosts: number;
  /**
   * Per-topic totals over the range, by volume (desc): the top MAX_SUMMARIES, not only the charted ones;
   * each says how many posts in unsupported languages it left out (`leftOut`).
   */
  readonly summaries: readonly TopicSummary[];
  /** The range holds more topics than `summaries` lists. */
  readonly moreTopics: boolean;
  /** Every bucket of the range with the share of it the stream covered (null: not recorded, e.g. a replay). */
  readonly coverage: readonly { readonly t: string; readonly fraction: number | null }[];
  /**
   * The stream's state at the end of the range (now, or `at`), from the last coverage event before it:
   * connected, disconnected, paused, capped (`until`: when X's cap resets) or stopped; null when none is recorded.
   */
  readonly stream: StreamState | null;
  /** Shifts detected in the range, every topic's (at most MAX_VIEW_SHIFTS, the earliest), by detection time. */
  readonly shifts: readonly ShiftEvent[];
  /** Charted topics, each with its buckets in time order (buckets with no posts are absent). */
  readonly series: readonly { readonly topic: string; readonly points: readonly SeriesPoint[] }[];
}

export interface StreamState {
  readonly state: CoverageState;
  /** When the state began (ISO). */
  readonly since: string;
  readonly detail: string;
  /** capped: when X's usage cap resets (ISO). */
  readonly until?: string;
}

/** The stream's state at `at`: the last state event (not a backfill) at or before it; it began at the first of its run (heartbeats repeat it). */
export function streamStateAt(events: readonly CoverageEvent[], at: number): StreamState | null {
  const states = events.filter((e) => !isFill(e) && e.at <= at).sort((x, y) => x.at - y.at);
  const last = states.at(-1);
  if (last === undefined) return null;
  let first = states.length - 1;
  while (first > 0 && states[first - 1]?.state === last.state) first--;
  const begin = states[first] ?? last;
  return {
    state: last.state,
    since: new Date(begin.at).toISOString(),
    detail: begin.detail,
    ...(last.until === undefined ? {} : { until: new Date(last.until).toISOString() }),
  };
}

const EMPTY_VIEW: SentimentView = {
  dataEnd: null,
  from: null,
  to: null,
  bucketSeconds: 0,
  minPosts: DEFAULT_MIN_POSTS,
  summaries: [],
  moreTopics: false,
  coverage: [],
  stream: null,
  shifts: [],
  series: [],
};

const timeOf = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));

/**
 * What the dashboard shows, read through the store's query interface: a window ends at `at` (the
 * clock, or a time asked for: a replay of old posts is seen with window=all or at=), bucketed to at most
 * `points` buckets. Every read returns a bounded list (the newest and the oldest topic, the top
 * topics, the charted topics' buckets): however many topics the store holds (it still aggregates
 * them all), the view and its JSON stay small, and no array of every topic is ever built here.
 */
export async function sentimentView(query: SentimentQuery, request: SentimentViewRequest): Promise<SentimentView> {
  // The stored posts' extent, those in unsupported languages included (left out of the figures, they are still stored).
  const [newest] = await query.topics({ order: 'newest', limit: 1, unsupportedLanguages: 'include' });
  const dataEnd = timeOf(newest?.lastAt);
  if (!Number.isFinite(dataEnd)) return EMPTY_VIEW;
  let dataStart = dataEnd;
  if (request.window === 'all') {
    const [oldest] = await query.topics({ order: 'oldest', limit: 1, unsupportedLanguages: 'include' });
    const first = timeOf(oldest?.firstAt);
    if (Number.isFinite(first) && first < dataEnd) dataStart = first;
  }
  const spanMs = request.window === 'all' ? dataEnd - dataStart + 1 : request.window * 1000;
  const bucketSeconds = chooseBucketSeconds(spanMs / 1000, request.points);
  const width = bucketSeconds * 1000;
  const end = request.window === 'all' ? dataEnd : (request.at ?? Date.now());
  const to = (Math.floor(end / width) + 1) * width;
  const from = request.window === 'all' ? Math.floor(dataStart / width) * width : Math.max(0, to - Math.ceil(spanMs / width) * width);
  const filters: Filters = {
    ...(request.amplification === undefined ? {} : { amplification: request.amplification }),
    ...(request.langs === undefined ? {} : { langs: request.langs }),
    ...(request.authorCap === undefined ? {} : { authorCap: request.authorCap }),
    ...(request.unsupportedLanguages === undefined ? {} : { unsupportedLanguages: request.unsupportedLanguages }),
  };
  const range = { from: new Date(from), to: new Date(to), ...filters };
  // One more than shown: tells whether there are more, without counting them all.
  const listed = await query.topics({ ...range, limit: MAX_SUMMARIES + 1 });
  const summaries = listed.slice(0, MAX_SUMMARIES);
  const charted = await chartedTopics(query, range, summaries, request);
  const buckets = charted.length === 0 ? [] : await query.buckets({ ...range, topics: charted, bucketSeconds });
  const pointsByTopic = new Map<string, SeriesPoint[]>(charted.map((topic) => [topic, []]));
  for (const b of buckets)
    pointsByTopic.get(b.topic)?.push({
      t: b.bucketStart,
      count: b.count,
      opinions: b.opinions,
      meanScore: b.meanScore,
      shares: b.shares,
      meanScoreCi95: b.meanScoreCi95,
      sharesCi95: b.sharesCi95,
      tooFewPosts: b.tooFewPosts,
    });
  const events = await query.coverage(range);
  const shifts = await query.shifts({ from: range.from, to: range.to, limit: MAX_VIEW_SHIFTS });
  const coverage = (coverageTimeline(events, from, to, width, Date.now()) ?? []).map((c) => ({ t: c.bucketStart, fraction: c.covered }));
  return {
    dataEnd: new Date(dataEnd).toISOString(),
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    bucketSeconds,
    minPosts: DEFAULT_MIN_POSTS,
    summaries,
    moreTopics: listed.length > MAX_SUMMARIES,
    coverage,
    stream: streamStateAt(events, Math.min(Date.now(), to)),
    shifts,
    series: charted.map((topic) => ({ topic, points: pointsByTopic.get(topic) ?? [] })),
  };
}

/** The topics asked for that have posts in the range (first MAX_CHARTED, in the order asked), or the `top` by volume. */
async function chartedTopics(
  query: SentimentQuery,
  range: { from: Date; to: Date } & Filters,
  summaries: readonly TopicSummary[],
  request: SentimentViewRequest,
): Promise<string[]> {
  if (!request.topics || request.topics.length === 0) return summaries.slice(0, Math.min(request.top, MAX_CHARTED)).map((s) => s.topic);
  const asked = Array.from(new Set(request.topics)).slice(0, MAX_CHARTED);
  // Asked by name: a topic outside the top summaries is still charted when it has posts.
  const present = new Set((await query.topics({ ...range, topics: asked, limit: MAX_CHARTED })).map((s) => s.topic));
  return asked.filter((t) => present.has(t));
}
