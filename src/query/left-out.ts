import { amplifiedAggregateOf } from './amplification.js';
import { compareCodePoints } from './rollup-plan.js';
import type { TopicSummary } from './sentiment-query.js';

const NOTHING = {
  n: 0,
  sumOfWeights: 0,
  sumOfSquaredWeights: 0,
  weightedSum: 0,
  weightedSumOfSquares: 0,
  weightByLabel: { negative: 0, neutral: 0, positive: 0 },
};

/**
 * Summaries of the posts counted, ordered and cut to `limit`, with each topic's count of posts left
 * out (unsupported languages, src/query/languages.ts); topics whose every post was left out follow,
 * with nothing counted, by topic, while the limit allows. Either store's topics() ends here, so both
 * list the same topics in the same order.
 */
export function withLeftOut(
  counted: readonly Omit<TopicSummary, 'leftOut'>[],
  leftOut: ReadonlyMap<string, number>,
  limit: number | undefined,
  minPosts: number | undefined,
): TopicSummary[] {
  const out: TopicSummary[] = counted.map((s) => ({ ...s, leftOut: leftOut.get(s.topic) ?? 0 }));
  if (leftOut.size === 0 || (limit !== undefined && out.length >= limit)) return out;
  const listed = new Set(out.map((s) => s.topic));
  const only = [...leftOut.keys()].filter((t) => !listed.has(t)).sort(compareCodePoints);
  for (const topic of limit === undefined ? only : only.slice(0, limit - out.length))
    out.push({ topic, ...amplifiedAggregateOf(NOTHING, minPosts), firstAt: undefined, lastAt: undefined, leftOut: leftOut.get(topic) ?? 0 });
  return out;
}
