/** The sufficient statistics of a run of posts' scores: enough for a mean, its spread and a count. */
export interface ScoreSums {
  readonly n: number;
  readonly sum: number;
  readonly sumOfSquares: number;
}

/** Score sums over a range of consecutive buckets, with how many buckets the range spans. */
export interface RangeSums extends ScoreSums {
  readonly buckets: number;
  /** Σ over the buckets of (posts in the bucket)²: the spread of the volume. */
  readonly countSquares: number;
}

export const NO_POSTS: ScoreSums = { n: 0, sum: 0, sumOfSquares: 0 };
