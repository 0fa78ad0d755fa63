import type { Label } from '../contract/index.js';
import type { SentimentQuery, TopicSummary } from '../query/sentiment-query.js';

/** Bucket widths the dashboard chooses from, seconds (round numbers a reader recognises). */
export const BUCKET_WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800] as const;

/** The smallest listed width that covers `spanSeconds` in at most `maxPoints` buckets. */
export function chooseBucketSeconds(spanSeconds: number, maxPoints: number): number {
  const points = Math.max(1, Math.floor(maxPoints));
  for (const width of BUCKET_WIDTHS) if (spanSeconds / width <= points) return width;
  return Math.ceil(spanSeconds / points);
}

export interface SentimentViewRequest {
  /** Seconds of data to show, ending at the newest stored post; 'all' = everything stored. */
  readonly window: number | 'all';
  /** Most buckets per topic. */
  readonly points: number;
  /** Topics to chart; none = the `top` topics by volume in the window. */
  readonly topics?: readonly string[];
  readonly top: number;
}

export interface SeriesPoint {
  /** Bucket start, ISO 8601 UTC. */
  readonly t: string;
  readonly count: number;
  readonly meanScore: number;
  readonly shares: Readonly<Record<Label, number>>;
}

export interface SentimentView {
  /** Newest stored post's time; null when the store is empty. */
  readonly dataEnd: string | null;
  /** The charted range [from, to), aligned to the bucket width. */
  readonly from: string | null;
  readonly to: string | null;
  readonly bucketSeconds: number;
  /** Per-topic totals over the range, by volume (desc): every topic, not only the charted ones. */
  readonly summaries: readonly TopicSummary[];
  /** Charted topics, each with its buckets in time order (buckets with no posts are absent). */
  readonly series: readonly { readonly topic: string; readonly points: readonly SeriesPoint[] }[];
}

/**
 * What the dashboard shows, read through the store's query interface: the range ends at the newest
 * stored post (so a replay of old posts is shown as well as a live stream), bucketed to at most
 * `points` buckets.
 */
export async function sentimentView(query: SentimentQuery, request: SentimentViewRequest): Promise<SentimentView> {
  const everything = await query.topics();
  const lastTimes = everything.map((t) => (t.lastAt ? Date.parse(t.lastAt) : NaN)).filter(Number.isFinite);
  const firstTimes = everything.map((t) => (t.firstAt ? Date.parse(t.firstAt) : NaN)).filter(Number.isFinite);
  if (lastTimes.length === 0) {
    return { dataEnd: null, from: null, to: null, bucketSeconds: 0, summaries: [], series: [] };
  }
  const dataEnd = Math.max(...lastTimes);
  const dataStart = Math.min(...firstTimes);
  const spanMs = request.window === 'all' ? dataEnd - dataStart + 1 : request.window * 1000;
  const bucketSeconds = chooseBucketSeconds(spanMs / 1000, request.points);
  const width = bucketSeconds * 1000;
  const to = (Math.floor(dataEnd / width) + 1) * width;
  const from = request.window === 'all' ? Math.floor(dataStart / width) * width : Math.max(0, to - Math.ceil(spanMs / width) * width);
  const range = { from: new Date(from), to: new Date(to) };
  const summaries = await query.topics(range);
  const charted = request.topics && request.topics.length > 0
    ? request.topics.filter((t) => summaries.some((s) => s.topic === t))
    : summaries.slice(0, request.top).map((s) => s.topic);
  const buckets = charted.length === 0 ? [] : await query.buckets({ ...range, topics: charted, bucketSeconds });
  const series = charted.map((topic) => ({
    topic,
    points: buckets.filter((b) => b.topic === topic).map((b) => ({ t: b.bucketStart, count: b.count, meanScore: b.meanScore, shares: b.shares })),
  }));
  return {
    dataEnd: new Date(dataEnd).toISOString(),
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    bucketSeconds,
    summaries,
    series,
  };
}
