import type { Label } from '../contract/index.js';
import { weightedUncertaintyOf, type Uncertainty, type WeightedScoreStatistics } from './intervals.js';

/**
 * How posts count in an aggregate (`crowdpulse query --amplification`, the dashboard's toggle):
 * - weighted (the default): a retweet is not an opinion of its own. It adds weight to the post it
 *   retweets: within a (topic, bucket) the original and its retweets are one opinion, of weight 1 +
 *   the retweets, scored as the original (or, when the original is not in the bucket, as the mean of
 *   its retweets, which carry its text). Quotes and replies are opinions of their own. The mean is
 *   weighted; its interval uses the effective number of opinions (intervals.ts).
 * - count: every post is one opinion, retweets included (what the store held before).
 * An author cap (`authorCap`) keeps at most that many of one author's posts per (topic, bucket),
 * the earliest, so that one account's flood cannot move a bucket on its own.
 */
export const AMPLIFICATION_MODES = ['weighted', 'count'] as const;
export type AmplificationMode = (typeof AMPLIFICATION_MODES)[number];
export const DEFAULT_AMPLIFICATION: AmplificationMode = 'weighted';

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
