/**
 * A detected shift of a topic's sentiment, as the detector (src/shifts/detector.ts) emits it and
 * the stores keep it: the contract between detection, storage, `crowdpulse query --shifts`, the
 * dashboard and the webhook.
 */
export type ShiftKind = 'mean' | 'volume';
export type ShiftDirection = 'up' | 'down';

export interface ShiftSide {
  readonly n: number;
  /** 0 when n is 0 (a topic gone silent). */
  readonly meanScore: number;
  readonly meanScoreCi95: readonly [number, number] | null;
  readonly postsPerMinute: number;
}

export interface ShiftEvent {
  readonly topic: string;
  readonly kind: ShiftKind;
  readonly direction: ShiftDirection;
  /** ISO UTC, end of the bucket at which it fired. */
  readonly detectedAt: string;
  /** ISO UTC, estimated change point (start of the first bucket after the change). */
  readonly changeAt: string;
  readonly before: ShiftSide;
  readonly after: ShiftSide;
  /** after.postsPerMinute / before.postsPerMinute (Infinity if the old level had no posts in its window; null in JSON). */
  readonly volumeChange: number;
  /** Up to 10 posts after the change that moved the mean most in `direction`; for a volume shift, those farthest from the old mean either way. */
  readonly postIds: readonly string[];
}
