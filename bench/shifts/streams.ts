import type { ScoreSums } from '../../src/shifts/bucket-stats.js';
import type { Random } from './random.js';
import { drawScore, type Mix } from './score-model.js';

/** From `fromMs` on, posts arrive at this rate with this mix (until the next segment). */
export interface Segment {
  readonly fromMs: number;
  readonly postsPerMinute: number;
  readonly mix: Mix;
}

export interface GeneratedPost {
  readonly id: string;
  readonly createdAtMs: number;
  readonly score: number;
}

/** One topic's posts in time order up to `endMs`: Poisson arrivals, rate and mix piecewise constant. */
export function* postsOf(random: Random, segments: readonly Segment[], endMs: number, idPrefix: string): Generator<GeneratedPost> {
  let i = 0;
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s] as Segment;
    const until = Math.min(endMs, segments[s + 1]?.fromMs ?? endMs);
    const perMs = segment.postsPerMinute / 60_000;
    if (!(perMs > 0)) continue;
    // Memoryless: restarting the waiting time at a segment's start is exact.
    for (let t = segment.fromMs + random.exponential(perMs); t < until; t += random.exponential(perMs)) {
      yield { id: `${idPrefix}-${i++}`, createdAtMs: t, score: drawScore(random, segment.mix) };
    }
  }
}

/** One bucket's sums drawn directly: a Poisson count of posts, each score from the mix. */
export function bucketSumsOf(random: Random, expectedPosts: number, mix: Mix): ScoreSums {
  const n = random.poisson(expectedPosts);
  let sum = 0;
  let sumOfSquares = 0;
  for (let k = 0; k < n; k++) {
    const x = drawScore(random, mix);
    sum += x;
    sumOfSquares += x * x;
  }
  return { n, sum, sumOfSquares };
}
