import { LABELS, type Label } from '../contract/index.js';

/**
 * How sure an aggregate is, computed the same way whatever store it comes from: every store hands
 * over the same sufficient statistics (n, Σ score, Σ score², posts per label), and this module turns
 * them into intervals. 95 % throughout.
 *  - mean score: Student's t interval, mean ± t(0.975, n − 1) · s / √n, clipped to [−1, 1];
 *  - label shares: Wilson score intervals (they stay inside [0, 1] and behave at 0 and n posts).
 */

/** Inclusive bounds of an interval. */
export type Interval = readonly [lo: number, hi: number];

/** What a store aggregates per (topic[, bucket]); enough for every figure below. */
export interface ScoreStatistics {
  readonly n: number;
  readonly sum: number;
  readonly sumOfSquares: number;
  readonly byLabel: Readonly<Record<Label, number>>;
}

/** The uncertainty a bucket or a topic summary carries. */
export interface Uncertainty {
  /** Sample standard deviation of the score; 0 below 2 posts. */
  readonly scoreStdDev: number;
  /** 95 % interval of the mean score; null below 2 posts (no spread can be estimated from one). */
  readonly meanScoreCi95: Interval | null;
  /** 95 % Wilson interval of each label's share. */
  readonly sharesCi95: Readonly<Record<Label, Interval>>;
  /** Fewer posts than the minimum asked for: show it faded, do not read a trend into it. */
  readonly tooFewPosts: boolean;
}

/** Below this many posts a bucket is "too few posts" unless the reader asks for another minimum. */
export const DEFAULT_MIN_POSTS = 30;

const Z_975 = 1.959963984540054;

/** t(0.975, df) for df = 1..30 (standard tables, 4 decimals); beyond, the Cornish–Fisher expansion. */
const T_975 = [
  12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.306, 2.2622, 2.2281, 2.201, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.093, 2.086,
  2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
] as const;

/** The 0.975 quantile of Student's t with `df` degrees of freedom (df ≥ 1). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be ≥ 1, got ${df}`);
  const whole = Math.floor(df);
  if (whole <= T_975.length) return T_975[whole - 1] as number;
  const z = Z_975;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * whole) + (5 * z5 + 16 * z3 + 3 * z) / (96 * whole ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * whole ** 3);
}

/** Wilson score interval of k successes in n trials at 95 %; [0, 1] when n is 0. */
export function wilsonInterval(k: number, n: number): Interval {
  if (n <= 0) return [0, 1];
  const z2 = Z_975 * Z_975;
  const p = k / n;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z_975 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Sample standard deviation from n, Σx and Σx² (clamped at 0 against rounding). */
export function sampleStdDev(n: number, sum: number, sumOfSquares: number): number {
  if (n < 2) return 0;
  const variance = (sumOfSquares - (sum * sum) / n) / (n - 1);
  return variance > 0 ? Math.sqrt(variance) : 0;
}

/** t interval of the mean score, clipped to the score's range [−1, 1]; null below 2 posts. */
export function meanScoreInterval(n: number, sum: number, sumOfSquares: number): Interval | null {
  if (n < 2) return null;
  const mean = sum / n;
  const half = (tQuantile975(n - 1) * sampleStdDev(n, sum, sumOfSquares)) / Math.sqrt(n);
  return [Math.max(-1, mean - half), Math.min(1, mean + half)];
}

export function uncertaintyOf(stats: ScoreStatistics, minPosts: number = DEFAULT_MIN_POSTS): Uncertainty {
  const sharesCi95 = Object.fromEntries(LABELS.map((label) => [label, wilsonInterval(stats.byLabel[label], stats.n)])) as Record<Label, Interval>;
  return {
    scoreStdDev: sampleStdDev(stats.n, stats.sum, stats.sumOfSquares),
    meanScoreCi95: meanScoreInterval(stats.n, stats.sum, stats.sumOfSquares),
    sharesCi95,
    tooFewPosts: stats.n < minPosts,
  };
}

/**
 * Sums over weighted opinions (src/query/amplification.ts): n opinions, opinion j of weight w_j
 * (the posts that repeat it) and score s_j. With every weight 1 these are the unweighted sums.
 */
export interface WeightedScoreStatistics {
  /** Independent opinions. */
  readonly n: number;
  /** Σ w_j: the posts counted, retweets included. */
  readonly sumOfWeights: number;
  /** Σ w_j². */
  readonly sumOfSquaredWeights: number;
  /** Σ w_j s_j and Σ w_j s_j². */
  readonly weightedSum: number;
  readonly weightedSumOfSquares: number;
  /** Σ w_j per label. */
  readonly weightByLabel: Readonly<Record<Label, number>>;
}

/**
 * The uncertainty of a weighted mean: reliability-weighted variance, and Kish's effective sample
 * size n_eff = (Σw)²/Σw² for the t interval (df = ⌊n_eff⌋ − 1) and the Wilson intervals. A post
 * retweeted 500 times moves the mean by its weight, but narrows the interval no more than one
 * opinion does. Equal weights give exactly uncertaintyOf's numbers.
 */
export function weightedUncertaintyOf(stats: WeightedScoreStatistics, minPosts: number = DEFAULT_MIN_POSTS): Uncertainty {
  const { n, sumOfWeights: w1, sumOfSquaredWeights: w2 } = stats;
  if (n === 0 || w1 <= 0 || w2 <= 0) return uncertaintyOf({ n: 0, sum: 0, sumOfSquares: 0, byLabel: { negative: 0, neutral: 0, positive: 0 } }, minPosts);
  if (w1 === n && w2 === n)
    return uncertaintyOf({ n, sum: stats.weightedSum, sumOfSquares: stats.weightedSumOfSquares, byLabel: stats.weightByLabel }, minPosts);
  const nEff = (w1 * w1) / w2;
  const mean = stats.weightedSum / w1;
  const biased = stats.weightedSumOfSquares / w1 - mean * mean;
  const denominator = w1 * w1 - w2;
  const variance = n >= 2 && denominator > 0 && biased > 0 ? (biased * w1 * w1) / denominator : 0;
  const sd = Math.sqrt(variance);
  let meanScoreCi95: Interval | null = null;
  if (n >= 2 && nEff >= 2) {
    const half = (tQuantile975(Math.floor(nEff) - 1) * sd) / Math.sqrt(nEff);
    meanScoreCi95 = [Math.max(-1, mean - half), Math.min(1, mean + half)];
  }
  const sharesCi95 = Object.fromEntries(LABELS.map((label) => [label, wilsonInterval((stats.weightByLabel[label] / w1) * nEff, nEff)])) as Record<
    Label,
    Interval
  >;
  return { scoreStdDev: sd, meanScoreCi95, sharesCi95, tooFewPosts: n < minPosts };
}
