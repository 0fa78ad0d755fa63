import type { BucketRing } from './bucket-ring.js';
import type { RangeSums, ScoreSums } from './bucket-stats.js';

export type ShiftDirection = 'up' | 'down';

/** What a change test sees when a bucket closes. */
export interface ChangeTestInput {
  /** Absolute index of the bucket that just closed. */
  readonly bucket: number;
  readonly stats: ScoreSums;
  /** The topic's recent buckets, the one just closed included. */
  readonly ring: BucketRing;
  /** First bucket of the current level: the test may not reach back before it. */
  readonly levelFrom: number;
  /** The baseline: up to `baselineBuckets` buckets of the current level before `pendingFrom()`. */
  readonly baseline: RangeSums;
}

export interface ChangeDetection {
  readonly direction: ShiftDirection;
  /** Absolute index of the first bucket estimated to be after the change. */
  readonly changeBucket: number;
  /** Which of the test's charts fired (0 for a test of one). */
  readonly chart?: number;
}

/**
 * An online test for one kind of change (mean score, volume). The topic feeds it every closed
 * bucket once its baseline is warm; it says when it is sure of a change and where the change began.
 */
export interface ChangeTest {
  update(input: ChangeTestInput): ChangeDetection | null;
  /** Buckets from here on are still suspected of being after a change and stay out of the baseline. */
  pendingFrom(): number;
  /** Charts the test runs side by side (each has its own candidates). */
  readonly chartCount: number;
  /** Where `chart`'s change in `direction` would be estimated to begin if it fired now (a bucket after the newest: none suspected). */
  candidate(direction: ShiftDirection, chart?: number): number;
  /** Forgets all evidence; `nextBucket` is the first bucket it will be fed. */
  reset(nextBucket: number): void;
}
