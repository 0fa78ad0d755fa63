import { BucketRing } from './bucket-ring.js';
import { NO_POSTS, type RangeSums, type ScoreSums } from './bucket-stats.js';
import type { ChangeTest, ShiftDirection } from './change-test.js';
import { ExtremePosts, type ExtremePost } from './extreme-posts.js';

export type ShiftKind = 'mean' | 'volume';

/** How far back one kind's test looks. */
export interface KindWindows {
  /** Buckets a baseline spans (it slides) … */
  readonly baselineBuckets: number;
  /** … doubled up to this many while it holds fewer than minBaselinePosts (slow topics). */
  readonly maxBaselineBuckets: number;
  /** Most buckets kept out of the baseline while a change is suspected; also the furthest back a change point can be placed. */
  readonly maxPendingBuckets: number;
}

export interface TopicShiftsOptions {
  readonly mean: KindWindows;
  readonly volume: KindWindows;
  /** Warm-up: no test runs until the baseline spans this many buckets … */
  readonly minBaselineBuckets: number;
  /** … and holds this many posts. */
  readonly minBaselinePosts: number;
  /** Posts named per detection. */
  readonly postIds: number;
}

/** The most extreme posts of one closed bucket. */
export interface BucketExtremes {
  readonly highest: ExtremePosts;
  readonly lowest: ExtremePosts;
}

/** A change one topic's tests are sure of, in bucket indices. */
export interface TopicDetection {
  readonly kind: ShiftKind;
  readonly direction: ShiftDirection;
  /** The bucket at whose close it fired. */
  readonly bucket: number;
  /** First bucket estimated to be after the change. */
  readonly changeBucket: number;
  /** Up to `baselineBuckets` buckets of the old level before the change. */
  readonly before: RangeSums;
  /** From the change to the bucket it fired at. */
  readonly after: RangeSums;
  /** Posts after the change that moved the mean most in `direction` (volume: farthest from the old mean either way). */
  readonly posts: readonly ExtremePost[];
}

/** Extreme posts since a test's candidate change point. */
class Since {
  since = Number.NaN;
  readonly highest: ExtremePosts;
  readonly lowest: ExtremePosts;
  constructor(capacity: number) {
    this.highest = new ExtremePosts('highest', capacity);
    this.lowest = new ExtremePosts('lowest', capacity);
  }
  follow(candidate: number, bucket: number, extremes: BucketExtremes | undefined): void {
    if (candidate !== this.since) {
      this.highest.clear();
      this.lowest.clear();
      this.since = candidate;
    }
    if (candidate <= bucket && extremes !== undefined) {
      this.highest.addAll(extremes.highest);
      this.lowest.addAll(extremes.lowest);
    }
  }
}

/** One kind of change on one topic: its test, its current level and its warm-up. */
class Monitor {
  warm = false;
  /** Per chart of the test. */
  readonly up: Since[];
  readonly down: Since[];
  constructor(
    readonly kind: ShiftKind,
    readonly test: ChangeTest,
    readonly windows: KindWindows,
    /** First bucket of the current level (the topic's first, or the last change point). */
    public levelFrom: number,
    postIds: number,
  ) {
    this.up = Array.from({ length: test.chartCount }, () => new Since(postIds));
    this.down = Array.from({ length: test.chartCount }, () => new Since(postIds));
  }
  follow(bucket: number, extremes: BucketExtremes | undefined, cold = false): void {
    for (let chart = 0; chart < this.up.length; chart++) {
      (this.up[chart] as Since).follow(cold ? bucket + 1 : this.test.candidate('up', chart), bucket, extremes);
      (this.down[chart] as Since).follow(cold ? bucket + 1 : this.test.candidate('down', chart), bucket, extremes);
    }
  }
}

/**
 * One topic's shift detection: its recent buckets in a bounded ring, and per kind a change test fed
 * every closed bucket against a baseline of the current level. After a detection the level restarts
 * at the change point (the new level becomes the baseline, warm-up again), so one shift fires once.
 */
export class TopicShifts {
  private readonly ring: BucketRing;
  private readonly monitors: readonly Monitor[];

  constructor(
    private readonly options: TopicShiftsOptions,
    tests: { readonly mean: ChangeTest; readonly volume: ChangeTest },
    firstBucket: number,
  ) {
    const span = (w: KindWindows): number => Math.max(w.baselineBuckets, w.maxBaselineBuckets) + w.maxPendingBuckets;
    this.ring = new BucketRing(Math.max(span(options.mean), span(options.volume)));
    this.monitors = [
      new Monitor('mean', tests.mean, options.mean, firstBucket, options.postIds),
      new Monitor('volume', tests.volume, options.volume, firstBucket, options.postIds),
    ];
  }

  /** Index of the newest closed bucket; NaN before the first. */
  get newestBucket(): number {
    return this.ring.newestIndex;
  }

  /** No posts anywhere in the ring: nothing can warm up or fire until posts come, so empty buckets may be skipped. */
  get idle(): boolean {
    return this.ring.range(-Infinity, Infinity).n === 0;
  }

  /** Skips to `bucket` (exclusive) without feeding the tests; only while idle. */
  skipEmptyUntil(bucket: number): void {
    if (!this.idle) throw new RangeError('only an idle topic may skip buckets');
    if (bucket - 1 > this.ring.newestIndex || Number.isNaN(this.ring.newestIndex)) this.ring.push(bucket - 1, NO_POSTS);
  }

  /** Closes bucket `bucket` (the next after the newest) and returns what it made the tests sure of. */
  closeBucket(bucket: number, stats: ScoreSums, extremes?: BucketExtremes): TopicDetection[] {
    this.ring.push(bucket, stats);
    const next = bucket + 1;
    const detections: TopicDetection[] = [];
    for (const m of this.monitors) {
      const { maxPendingBuckets } = m.windows;
      if (!m.warm) {
        this.warmUp(m, next);
        continue;
      }
      const pendingFrom = Math.max(m.test.pendingFrom(), next - maxPendingBuckets);
      const baseline = this.baselineBefore(m, pendingFrom);
      const detection = m.test.update({ bucket, stats, ring: this.ring, levelFrom: m.levelFrom, baseline });
      m.follow(bucket, extremes);
      if (detection === null) continue;
      const changeBucket = Math.min(bucket, Math.max(detection.changeBucket, next - maxPendingBuckets, m.levelFrom));
      const before = this.baselineBefore(m, changeBucket);
      const after = this.ring.range(changeBucket, next);
      const since = (detection.direction === 'up' ? m.up : m.down)[detection.chart ?? 0] as Since;
      detections.push({
        kind: m.kind,
        direction: detection.direction,
        bucket,
        changeBucket,
        before,
        after,
        posts: this.postsOf(m.kind, detection.direction, since, before),
      });
      m.levelFrom = changeBucket;
      m.warm = false;
      this.warmUp(m, next);
    }
    return detections;
  }

  /** The current level's buckets before `end`: the last baselineBuckets, more (up to maxBaselineBuckets) while they hold too few posts. */
  private baselineBefore(m: Monitor, end: number): RangeSums {
    const { baselineBuckets, maxBaselineBuckets } = m.windows;
    let span = baselineBuckets;
    let sums = this.ring.range(Math.max(m.levelFrom, end - span), end);
    while (sums.n < this.options.minBaselinePosts && span < maxBaselineBuckets && end - span > m.levelFrom) {
      span = Math.min(maxBaselineBuckets, 2 * span);
      sums = this.ring.range(Math.max(m.levelFrom, end - span), end);
    }
    return sums;
  }

  /** Warm once the current level spans enough buckets and posts; the test starts afresh then. */
  private warmUp(m: Monitor, next: number): void {
    const level = this.baselineBefore(m, next);
    m.follow(next - 1, undefined, true);
    if (level.buckets < this.options.minBaselineBuckets || level.n < this.options.minBaselinePosts) return;
    m.warm = true;
    m.test.reset(next);
  }

  private postsOf(kind: ShiftKind, direction: ShiftDirection, since: Since, before: RangeSums): readonly ExtremePost[] {
    if (kind === 'mean') return [...(direction === 'up' ? since.highest : since.lowest).entries];
    const mean = before.n > 0 ? before.sum / before.n : 0;
    const seen = new Set<string>();
    return [...since.highest.entries, ...since.lowest.entries]
      .filter((p) => !seen.has(p.id) && seen.add(p.id))
      .sort((a, b) => Math.abs(b.score - mean) - Math.abs(a.score - mean) || a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1))
      .slice(0, this.options.postIds);
  }
}
