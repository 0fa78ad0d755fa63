import type { Label } from '../contract/index.js';
import type { Uncertainty } from './intervals.js';
import type { AmplificationMode } from './amplification.js';
import type { CoverageEvent } from './coverage.js';
import type { ShiftEvent } from './shift-event.js';
import type { UnsupportedLanguages } from './languages.js';

export interface ShiftRange {
  readonly from: Date;
  readonly to: Date;
  readonly topics?: readonly string[];
  /** Most shifts returned (the newest are cut); default MAX_SHIFTS. */
  readonly limit?: number;
}

/** Shifts one query returns at most. */
export const MAX_SHIFTS = 10_000;

/** Per-topic sentiment in one time bucket, with how sure it is (src/query/intervals.ts). */
export interface SentimentBucket extends Uncertainty {
  readonly topic: string;
  /** Bucket start, ISO 8601 UTC. */
  readonly bucketStart: string;
  /** Posts counted, retweets included (after the author cap). */
  readonly count: number;
  /** Independent opinions among them (src/query/amplification.ts): what the intervals and tooFewPosts go by. */
  readonly opinions: number;
  /** Mean of score = P(pos) − P(neg), weighted by amplification. */
  readonly meanScore: number;
  /** Weighted share of posts with each label (sums to 1). */
  readonly shares: Readonly<Record<Label, number>>;
}

/** Totals per topic over a time range, with how sure they are. */
export interface TopicSummary extends Uncertainty {
  readonly topic: string;
  readonly count: number;
  readonly opinions: number;
  readonly meanScore: number;
  readonly shares: Readonly<Record<Label, number>>;
  /** Of the posts counted; undefined when every post of the topic in the range was left out. */
  readonly firstAt: string | undefined;
  readonly lastAt: string | undefined;
  /**
   * Posts of the topic in the range (after the other filters) in a language the model does not
   * support, left out of the figures above (src/query/languages.ts); 0 when they are included.
   */
  readonly leftOut: number;
}

export interface TimeRange {
  /** Inclusive start; none = from the beginning. */
  readonly from?: Date;
  /** Exclusive end; none = up to now and beyond. */
  readonly to?: Date;
  readonly topics?: readonly string[];
  /** Only posts in these languages (X's codes: en, es, und); none = every language. */
  readonly langs?: readonly string[];
  /** How retweets count; default weighted (src/query/amplification.ts). */
  readonly amplification?: AmplificationMode;
  /** Most posts of one author counted per (topic, bucket); none = no cap. */
  readonly authorCap?: number;
  /** Buckets and summaries of fewer opinions are marked tooFewPosts; default DEFAULT_MIN_POSTS (30). */
  readonly minPosts?: number;
  /** Posts flagged as in a language the model does not support: left out (the default) or included (src/query/languages.ts). */
  readonly unsupportedLanguages?: UnsupportedLanguages;
}

/** Which topics topics() lists first: most posts, newest last post, or oldest first post. Ties go by topic. */
export type TopicOrder = 'count' | 'newest' | 'oldest';

export interface TopicsRequest extends TimeRange {
  /**
   * Most summaries returned; none = every topic. The store cuts the list, so a reader that wants the
   * top N of a store holding 200,000 topics never holds all of them.
   */
  readonly limit?: number;
  /** Default: count. */
  readonly order?: TopicOrder;
}

/**
 * What the run summary, the dashboard and the bench read. The embedded SQLite store and the
 * InfluxDB store both implement it, so everything above works on either.
 */
export interface SentimentQuery {
  /** Per-topic buckets of `bucketSeconds`, ordered by topic then time. */
  buckets(range: TimeRange & { readonly bucketSeconds: number }): Promise<SentimentBucket[]>;
  /**
   * One summary per topic, ordered by count (desc) unless `order` says otherwise, at most `limit`.
   * A topic whose posts in the range were all left out (unsupported languages) is listed too, with
   * nothing counted, after every topic with posts counted (by topic).
   */
  topics(request?: TopicsRequest): Promise<TopicSummary[]>;
  /**
   * The stream's coverage events in [from, to), and the last one before `from` (the state the range
   * starts in), in time order; none when nothing was recorded (a replay).
   */
  coverage(range: { readonly from: Date; readonly to: Date }): Promise<CoverageEvent[]>;
  /** Detected shifts with detectedAt in [from, to) (of these topics, when given), by detection time then topic. */
  shifts(range: ShiftRange): Promise<ShiftEvent[]>;
  /** Stored (post, topic) pairs per topic, and rows that share a (post, topic) key (must be 0). */
  integrity(): Promise<{ readonly rowsPerTopic: ReadonlyMap<string, number>; readonly distinctPosts: number; readonly duplicateKeys: number }>;
  close(): Promise<void>;
}
