/**
 * Online shift detection per topic: a significant change of the mean score or of the volume
 * (#13 item 5). Pure: no I/O, no timers, no clock; event time comes from the posts and the
 * watermark passed to advance().
 *
 * Per topic the closed 60 s buckets' sufficient statistics (n, Σ score, Σ score², n²) sit in a
 * bounded ring (480 buckets); each kind of change has a test fed every closed bucket (empty ones
 * included) against a baseline of the current level, and restarts from the change point after it
 * fires (warm-up again: 30 buckets and 100 posts), so one shift is reported once.
 *  - Mean: two per-post CUSUM charts tuned to changes of 0.1 and 0.2 (mean-cusum.ts), the baseline
 *    the 240 buckets before the charts' candidate change point, its mean moved by 2 standard
 *    errors against each side; alarm level meanLogHorizon + ln(λ₀θ²).
 *  - Volume: two quasi-Poisson CUSUMs tuned to ×2 and ×0.5 (volume-cusum.ts) against a 60-bucket
 *    baseline (longer for slow topics), one alarm level at every rate.
 *
 * Chosen by measurement (bench/shifts, bench/results/shifts-2026-12-02.md; 200 trials per cell,
 * each method's threshold calibrated to ≤ 0.25 false alarms per topic-week at 1, 10 and 30
 * posts/min). Detected within 10 min / median delay for a 0.2 shift:
 *    method                      10 posts/min      30 posts/min     100 posts/min   0.1 at 30/min ≤ 60 min
 *    CUSUM, one chart δ = 0.2     7 % / 20.1 min    69 % / 7.8 min   100 % / 3.2 min   31 %
 *    CUSUM, charts 0.1 + 0.2      7 % / 23.8 min    65 % / 8.4 min   100 % / 3.3 min   87 %   ← shipped
 *    window scan (z = 4.6)        4 % / 21.9 min    71 % / 7.8 min   100 % / 2.9 min   91 %
 * The two-chart CUSUM and the multi-window two-sample scan tie (overall score 1.157 vs 1.146);
 * the CUSUM ships because its change point is a single candidate per chart, so the post ids need
 * only the 10 most extreme posts since it (the scan would need every bucket's for 240 buckets),
 * and it costs O(1) per bucket instead of one test per window. Stationary streams: 0.07–0.20
 * mean and 0–0.12 volume false alarms per topic-week at 1–100 posts/min (100 topic-weeks each),
 * ≤ 0.30 mean and 0.15 volume with a ±30 % daily rate cycle. Not met: a 0.2 shift at 10 posts/min within 10 min
 * (7 %; ~95 posts are 3 standard errors, under the ~4.6 a week of looks needs); met from ~50
 * posts/min (100 % at 50).
 */
import { meanScoreInterval } from '../query/intervals.js';
import type { ShiftEvent, ShiftSide } from '../query/shift-event.js';
import { NO_POSTS, type RangeSums } from './bucket-stats.js';
import type { ChangeTest } from './change-test.js';
import { ExtremePosts } from './extreme-posts.js';
import { MeanCusum } from './mean-cusum.js';
import { TopicShifts, type TopicDetection, type TopicShiftsOptions } from './topic-shifts.js';
import { VolumeCusum } from './volume-cusum.js';

export type { ShiftDirection } from './change-test.js';
export type { ShiftKind } from './topic-shifts.js';

/** The event's shape is the contract between detection, the stores, the query, the dashboard and the webhook (src/query/shift-event.ts). */
export type { ShiftEvent, ShiftSide } from '../query/shift-event.js';

export interface ShiftDetectorOptions {
  /** Bucket width; the defaults below were measured at 60 s. */
  bucketSeconds?: number;
  /** Topics tracked at once; the least recently seen is evicted beyond. */
  maxTopics?: number;
  /** Buckets a topic's mean baseline spans at most (it slides). */
  baselineBuckets?: number;
  /** Buckets kept out of the mean baseline while a change is suspected, at most; also how far back a change point can be placed. */
  maxPendingBuckets?: number;
  /** The same two for the volume test, shorter: with a ±30 % daily rate cycle at 10 posts/min a 240-bucket baseline measured 2.4 false alarms per topic-week, 60 buckets 0.1 … */
  volumeBaselineBuckets?: number;
  /** … whose baseline is doubled up to this many buckets while it holds fewer than minBaselinePosts. */
  volumeMaxBaselineBuckets?: number;
  volumeMaxPendingBuckets?: number;
  /** Warm-up: no detection until the baseline spans this many buckets … */
  minBaselineBuckets?: number;
  /** … and holds this many posts (30 instead of 100 measured 0.15 instead of 0.07 mean false alarms per topic-week at 1 post/min). */
  minBaselinePosts?: number;
  /** Mean-score changes the mean CUSUM's charts are tuned to (changes ≤ half the smallest never fire). */
  meanShifts?: readonly number[];
  /** Mean CUSUM threshold constant (log-likelihood units, before the rate term); higher: fewer false alarms, later detection. */
  meanLogHorizon?: number;
  /** Rate ratios the volume CUSUMs are tuned to (up > 1, down < 1). */
  volumeUpRatio?: number;
  volumeDownRatio?: number;
  /** Volume CUSUMs' alarm level (log-likelihood units, the same at every rate). */
  volumeThreshold?: number;
  /** Standard errors by which the baseline's mean and rate are moved against each test (their uncertainty); 1 instead of 2 measured 0.45 instead of 0.17 mean false alarms per topic-week at 10 posts/min. */
  baselineUncertainty?: number;
  /** Buckets ahead of the closed ones a post may be dated (later posts are counted as future and ignored). */
  maxOpenBuckets?: number;
  /** Replaces the mean test (the bench compares methods through this); default the mean CUSUM. */
  createMeanTest?: () => ChangeTest;
}

export const SHIFT_DEFAULTS = {
  bucketSeconds: 60,
  maxTopics: 1000,
  baselineBuckets: 240,
  maxPendingBuckets: 240,
  volumeBaselineBuckets: 60,
  volumeMaxBaselineBuckets: 240,
  volumeMaxPendingBuckets: 60,
  minBaselineBuckets: 30,
  minBaselinePosts: 100,
  meanShifts: [0.1, 0.2] as readonly number[],
  meanLogHorizon: 9.25,
  volumeUpRatio: 2,
  volumeDownRatio: 0.5,
  volumeThreshold: 8.75,
  baselineUncertainty: 2,
  maxOpenBuckets: 60,
} as const satisfies Required<Omit<ShiftDetectorOptions, 'createMeanTest'>>;

const POST_IDS = 10;
/** Below this per-post sd the baseline's is raised to it (a topic of identical scores). */
const MIN_STD_DEV = 0.1;
/** Alarm levels never below this (log-likelihood units). */
const MIN_THRESHOLD = 3;

/** A bucket still open for posts. */
class OpenBucket {
  n = 0;
  sum = 0;
  sumOfSquares = 0;
  readonly highest = new ExtremePosts('highest', POST_IDS);
  readonly lowest = new ExtremePosts('lowest', POST_IDS);
}

class TopicEntry {
  readonly open = new Map<number, OpenBucket>();
  constructor(
    readonly shifts: TopicShifts,
    /** The next bucket to close. */
    public nextBucket: number,
  ) {}
}

/** The options of one topic's tests, from the detector's. */
export function topicOptionsOf(o: Required<Omit<ShiftDetectorOptions, 'createMeanTest'>>): TopicShiftsOptions {
  return {
    mean: { baselineBuckets: o.baselineBuckets, maxBaselineBuckets: o.baselineBuckets, maxPendingBuckets: o.maxPendingBuckets },
    volume: { baselineBuckets: o.volumeBaselineBuckets, maxBaselineBuckets: o.volumeMaxBaselineBuckets, maxPendingBuckets: o.volumeMaxPendingBuckets },
    minBaselineBuckets: o.minBaselineBuckets,
    minBaselinePosts: o.minBaselinePosts,
    postIds: POST_IDS,
  };
}

export function meanCusumOf(o: Required<Omit<ShiftDetectorOptions, 'createMeanTest'>>): MeanCusum {
  return new MeanCusum({
    shifts: o.meanShifts,
    logHorizon: o.meanLogHorizon,
    minThreshold: MIN_THRESHOLD,
    baselineUncertainty: o.baselineUncertainty,
    minStdDev: MIN_STD_DEV,
  });
}

export function volumeCusumOf(o: Required<Omit<ShiftDetectorOptions, 'createMeanTest'>>): VolumeCusum {
  return new VolumeCusum({
    upRatio: o.volumeUpRatio,
    downRatio: o.volumeDownRatio,
    threshold: o.volumeThreshold,
    baselineUncertainty: o.baselineUncertainty,
  });
}

export class ShiftDetector {
  private readonly o: Required<Omit<ShiftDetectorOptions, 'createMeanTest'>>;
  private readonly createMeanTest: () => ChangeTest;
  private readonly bucketMs: number;
  private readonly topicOptions: TopicShiftsOptions;
  /** Insertion order = least recently seen first. */
  private readonly topics = new Map<string, TopicEntry>();
  private lastTopic: string | undefined;
  /** Buckets below this are closed; undefined until the first advance(). */
  private frontier: number | undefined;
  private readonly counters = { latePosts: 0, evictedTopics: 0, futurePosts: 0, invalidPosts: 0 };

  constructor(options: ShiftDetectorOptions = {}) {
    const { createMeanTest, ...rest } = options;
    this.o = { ...SHIFT_DEFAULTS, ...definedOnly(rest) };
    if (!(this.o.bucketSeconds > 0)) throw new RangeError(`bucketSeconds must be > 0, got ${this.o.bucketSeconds}`);
    for (const key of [
      'maxTopics',
      'baselineBuckets',
      'maxPendingBuckets',
      'volumeBaselineBuckets',
      'volumeMaxBaselineBuckets',
      'volumeMaxPendingBuckets',
      'maxOpenBuckets',
    ] as const) {
      if (!Number.isInteger(this.o[key]) || this.o[key] < 1) throw new RangeError(`${key} must be a positive integer, got ${this.o[key]}`);
    }
    this.bucketMs = this.o.bucketSeconds * 1000;
    this.topicOptions = topicOptionsOf(this.o);
    this.createMeanTest = createMeanTest ?? (() => meanCusumOf(this.o));
  }

  /** Late: dated before the last closed bucket; future: more than maxOpenBuckets ahead; invalid: a non-finite time or score. */
  get stats(): { readonly latePosts: number; readonly evictedTopics: number; readonly futurePosts: number; readonly invalidPosts: number } {
    return { ...this.counters };
  }

  /** Topics tracked now. */
  get topicCount(): number {
    return this.topics.size;
  }

  /** Whether `topic` is tracked now (not yet seen, or evicted: false). */
  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** One scored post of a topic (score in [−1, 1], createdAtMs event time). Posts older than the last closed bucket are counted as late and ignored. */
  observe(topic: string, createdAtMs: number, score: number, postId: string): void {
    if (!Number.isFinite(createdAtMs) || !Number.isFinite(score)) {
      this.counters.invalidPosts += 1;
      return;
    }
    const bucket = Math.floor(createdAtMs / this.bucketMs);
    if (this.frontier !== undefined) {
      if (bucket < this.frontier) {
        this.counters.latePosts += 1;
        return;
      }
      if (bucket >= this.frontier + this.o.maxOpenBuckets) {
        this.counters.futurePosts += 1;
        return;
      }
    }
    const existing = this.topics.get(topic);
    let open = existing?.open.get(bucket);
    if (existing !== undefined && open === undefined && existing.open.size >= this.o.maxOpenBuckets) {
      this.counters.futurePosts += 1;
      return;
    }
    const entry = existing ?? this.create(topic, bucket);
    if (existing !== undefined && this.lastTopic !== topic) {
      this.topics.delete(topic);
      this.topics.set(topic, entry);
    }
    this.lastTopic = topic;
    if (open === undefined) {
      open = new OpenBucket();
      entry.open.set(bucket, open);
    }
    if (bucket < entry.nextBucket) entry.nextBucket = bucket;
    const s = Math.min(1, Math.max(-1, score));
    open.n += 1;
    open.sum += s;
    open.sumOfSquares += s * s;
    const post = { id: postId, score: s, createdAtMs };
    open.highest.add(post);
    open.lowest.add(post);
  }

  /** Close every bucket ending at or before `watermarkMs` (event time) and return the shifts detected, in time order. */
  advance(watermarkMs: number): ShiftEvent[] {
    const frontier = Math.floor(watermarkMs / this.bucketMs);
    if (!Number.isFinite(frontier) || (this.frontier !== undefined && frontier <= this.frontier)) return [];
    const first = this.frontier === undefined;
    this.frontier = frontier;
    const found: { topic: string; detection: TopicDetection }[] = [];
    for (const [topic, entry] of this.topics) {
      if (first) this.dropBeyond(entry, frontier + this.o.maxOpenBuckets);
      for (const detection of this.closeUntil(entry, frontier)) found.push({ topic, detection });
    }
    found.sort((a, b) => a.detection.bucket - b.detection.bucket || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    return found.map(({ topic, detection }) => this.eventOf(topic, detection));
  }

  private create(topic: string, bucket: number): TopicEntry {
    if (this.topics.size >= this.o.maxTopics) {
      const oldest = this.topics.keys().next();
      if (oldest.done !== true) {
        this.topics.delete(oldest.value);
        this.counters.evictedTopics += 1;
      }
    }
    const shifts = new TopicShifts(this.topicOptions, { mean: this.createMeanTest(), volume: volumeCusumOf(this.o) }, bucket);
    const entry = new TopicEntry(shifts, bucket);
    this.topics.set(topic, entry);
    return entry;
  }

  /** Before the first advance() no frontier bounds a post's time: open buckets too far ahead of it go now. */
  private dropBeyond(entry: TopicEntry, limit: number): void {
    for (const [bucket, open] of entry.open) {
      if (bucket < limit) continue;
      this.counters.futurePosts += open.n;
      entry.open.delete(bucket);
    }
  }

  private closeUntil(entry: TopicEntry, frontier: number): TopicDetection[] {
    const detections: TopicDetection[] = [];
    let bucket = entry.nextBucket;
    while (bucket < frontier) {
      const open = entry.open.get(bucket);
      if (open !== undefined) {
        entry.open.delete(bucket);
        detections.push(...entry.shifts.closeBucket(bucket, open, open));
      } else if (entry.shifts.idle) {
        // Nothing can happen until the next post: jump to it (or to the frontier).
        let to = frontier;
        for (const b of entry.open.keys()) if (b < to) to = b;
        entry.shifts.skipEmptyUntil(to);
        bucket = to;
        continue;
      } else {
        detections.push(...entry.shifts.closeBucket(bucket, NO_POSTS));
      }
      bucket += 1;
    }
    entry.nextBucket = Math.max(entry.nextBucket, frontier);
    return detections;
  }

  private eventOf(topic: string, d: TopicDetection): ShiftEvent {
    const before = this.sideOf(d.before);
    const after = this.sideOf(d.after);
    const volumeChange = before.postsPerMinute > 0 ? after.postsPerMinute / before.postsPerMinute : after.postsPerMinute > 0 ? Infinity : 1;
    return {
      topic,
      kind: d.kind,
      direction: d.direction,
      detectedAt: new Date((d.bucket + 1) * this.bucketMs).toISOString(),
      changeAt: new Date(d.changeBucket * this.bucketMs).toISOString(),
      before,
      after,
      volumeChange,
      postIds: d.posts.map((p) => p.id),
    };
  }

  private sideOf(s: RangeSums): ShiftSide {
    const minutes = (s.buckets * this.o.bucketSeconds) / 60;
    return {
      n: s.n,
      meanScore: s.n > 0 ? s.sum / s.n : 0,
      meanScoreCi95: meanScoreInterval(s.n, s.sum, s.sumOfSquares),
      postsPerMinute: minutes > 0 ? s.n / minutes : 0,
    };
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
