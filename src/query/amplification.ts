import type { Label } from '../contract/index.js';
import { weightedUncertaintyOf, type Uncertainty, type WeightedScoreStatistics } from './intervals.js';

/**
 * How posts count in an aggregate (`crowdpulse query --amplification`, the dashboard's toggle):
 * - weighted (the default): a retweet is not an opinion of its own. It adds weight to the post it
 *   retweets: within a (topic, bucket) and one opinion window (OPINION_WINDOW_MS, UTC hours) the
 *   original and its retweets are one opinion, of weight 1 + the retweets, scored as the original
 *   (or, when the original is not there, as the mean of its retweets, which carry its text). Quotes
 *   and replies are opinions of their own. The mean is weighted; its interval uses the effective
 *   number of opinions (intervals.ts).
 * - count: every post is one opinion, retweets included (what the store held before).
 * An author cap (`authorCap`) keeps at most that many of one author's posts per (topic, bucket),
 * the earliest, so that one account's flood cannot move a bucket on its own.
 */
export const AMPLIFICATION_MODES = ['weighted', 'count'] as const;
export type AmplificationMode = (typeof AMPLIFICATION_MODES)[number];
export const DEFAULT_AMPLIFICATION: AmplificationMode = 'weighted';

/**
 * The widest span one opinion groups over: an original and its retweets are one opinion only within
 * the same UTC hour (and the same bucket, when buckets are narrower). Fixed, so that every
 * aggregate is a sum over (topic, hour) parts: the stores keep those parts as rollups
 * (src/sinks/sqlite/rollup.ts) and a 30-day query adds up 720 of them per topic instead of grouping
 * every row again. Grouping over a whole bucket instead would tie each bucket width and every summary
 * range to its own grouping, which no rollup can answer. The cost: a post retweeted across hours
 * counts as one opinion per hour, so a day's interval is narrower than with day-long grouping.
 */
export const OPINION_WINDOW_MS = 3_600_000;

/** Start of the opinion window that holds `at` (epoch ms). */
export const opinionWindowOf = (at: number): number => Math.floor(at / OPINION_WINDOW_MS) * OPINION_WINDOW_MS;

/** What a (topic, bucket) or a topic summary counts, beside its weighted mean and shares. */
export interface AmplifiedAggregate extends Uncertainty {
  /** Posts counted (retweets included; after the author cap). */
  readonly count: number;
  /** Independent opinions among them: what the intervals and tooFewPosts go by. */
  readonly opinions: number;
  readonly meanScore: number;
  /** Weighted share of each label (sums to 1). */
  readonly shares: Readonly<Record<Label, number>>;
}

/** The aggregate of a store's weighted sums, computed the same way for every store. */
export function amplifiedAggregateOf(stats: WeightedScoreStatistics, minPosts: number | undefined): AmplifiedAggregate {
  const w = stats.sumOfWeights;
  return {
    count: w,
    opinions: stats.n,
    meanScore: w === 0 ? 0 : stats.weightedSum / w,
    shares: {
      negative: w === 0 ? 0 : stats.weightByLabel.negative / w,
      neutral: w === 0 ? 0 : stats.weightByLabel.neutral / w,
      positive: w === 0 ? 0 : stats.weightByLabel.positive / w,
    },
    ...weightedUncertaintyOf(stats, minPosts),
  };
}

/** A positive whole author cap, or undefined for none. */
export function authorCapOf(cap: number | undefined): number | undefined {
  return cap === undefined || !Number.isFinite(cap) || cap <= 0 ? undefined : Math.floor(cap);
}
