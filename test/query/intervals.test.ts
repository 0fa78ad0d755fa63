/**
 * #13 uncertainty on every aggregate: the interval math against published reference values and a
 * two-pass reference computation, its coverage on simulated data, and the embedded store's buckets
 * and summaries against the same reference computed from the posts written.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LABELS, scoredPostOf, type Label, type ScoredPost } from '../../src/contract/index.js';
import { DEFAULT_MIN_POSTS, meanScoreInterval, sampleStdDev, tQuantile975, uncertaintyOf, wilsonInterval } from '../../src/query/intervals.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';

const near = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);

test('t quantiles match the published table, including beyond the tabulated degrees of freedom', () => {
  // Two-sided 95 % critical values of Student's t (any statistics table).
  const reference: [number, number][] = [
    [1, 12.706],
    [2, 4.303],
    [5, 2.571],
    [10, 2.228],
    [30, 2.042],
    [31, 2.04],
    [40, 2.021],
    [60, 2.0],
    [120, 1.98],
    [1000, 1.962],
  ];
  for (const [df, t] of reference) near(tQuantile975(df), t, 0.0015, `t(0.975, ${df})`);
  assert.throws(() => tQuantile975(0), RangeError);
});

test('Wilson intervals match reference values and stay inside [0, 1] at 0 and n', () => {
  // Reference values (Wilson 1927; e.g. Newcombe 1998, method 3) at 95 %.
  const cases: [number, number, number, number][] = [
    [0, 10, 0, 0.2775],
    [5, 10, 0.2366, 0.7634],
    [10, 10, 0.7225, 1],
    [1, 100, 0.0018, 0.0545],
    [81, 263, 0.2553, 0.3662],
  ];
  for (const [k, n, lo, hi] of cases) {
    const [a, b] = wilsonInterval(k, n);
    near(a, lo, 0.0005, `lower bound of ${k}/${n}`);
    near(b, hi, 0.0005, `upper bound of ${k}/${n}`);
  }
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
});

/** Two-pass mean and sample standard deviation: the reference, independent of the running sums. */
function reference(scores: readonly number[]): { mean: number; sd: number; ci: [number, number] | null } {
  const n = scores.length;
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(scores.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  if (n < 2) return { mean, sd, ci: null };
  const half = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return { mean, sd, ci: [Math.max(-1, mean - half), Math.min(1, mean + half)] };
}

test('the mean interval from running sums equals the two-pass reference, and a worked example', () => {
  const scores = [0.1, 0.4, -0.2, 0.5, 0.3];
  const sum = scores.reduce((a, b) => a + b, 0);
  const sumOfSquares = scores.reduce((a, b) => a + b * b, 0);
  // By hand: mean 0.22, s = √(0.308 / 4) = 0.27749, half-width 2.7764 · s / √5 = 0.34455.
  const ci = meanScoreInterval(scores.length, sum, sumOfSquares);
  assert.ok(ci);
  near(ci[0], 0.22 - 0.34455, 1e-4, 'lower');
  near(ci[1], 0.22 + 0.34455, 1e-4, 'upper');
  near(sampleStdDev(scores.length, sum, sumOfSquares), reference(scores).sd, 1e-12, 'stddev');
  assert.equal(meanScoreInterval(1, 0.5, 0.25), null, 'one post has no interval');
  // Near the bounds the interval is clipped to the score's range.
  const clipped = meanScoreInterval(3, 2.9, 0.99 ** 2 + 0.95 ** 2 + 0.96 ** 2);
  assert.ok(clipped && clipped[1] === 1);
});

test('95 % intervals cover the true value in about 95 % of simulated buckets', () => {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const trials = 4000;
  let meanCovered = 0;
  let shareCovered = 0;
  for (let t = 0; t < trials; t++) {
    const n = 8 + (t % 40);
    // Scores uniform on [-0.6, 0.8]: true mean 0.1; "positive" with probability 0.3.
    const scores = Array.from({ length: n }, () => -0.6 + 1.4 * random());
    const positives = Array.from({ length: n }, () => random() < 0.3).filter(Boolean).length;
    const ci = meanScoreInterval(
      n,
      scores.reduce((a, b) => a + b, 0),
      scores.reduce((a, b) => a + b * b, 0),
    );
    if (ci && ci[0] <= 0.1 && 0.1 <= ci[1]) meanCovered++;
    const [lo, hi] = wilsonInterval(positives, n);
    if (lo <= 0.3 && 0.3 <= hi) shareCovered++;
  }
  near(meanCovered / trials, 0.95, 0.015, 'coverage of the mean interval');
  near(shareCovered / trials, 0.95, 0.025, 'coverage of the Wilson interval');
});

test('the embedded store gives every bucket and topic summary the reference intervals, and marks too few posts', async () => {
  const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
  const posts: ScoredPost[] = [];
  for (let i = 0; i < 700; i++) {
    const neg = ((i * 7919) % 1000) / 2000;
    const pos = ((i * 104729) % 1000) / 2000;
    const post = {
      id: String(2_000_000_000_000_000_000n + BigInt(i)),
      // Topic "rare" gets a handful of posts per bucket, "busy" many.
      createdAt: new Date(T0 + i * 1000).toISOString(),
      topics: i % 10 === 0 ? ['rare', 'busy'] : ['busy'],
      lang: 'en',
      ingestedAt: T0 + i * 1000,
    };
    posts.push(scoredPostOf(post, { neg, neu: Math.max(0, 1 - neg - pos), pos }, { model: 'm', flags: [], analyzedAt: T0 + i * 1000 }));
  }
  const path = join(tempDir('intervals'), 'store.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();
  const query = new SqliteQuery(path);
  try {
    const buckets = await query.buckets({ bucketSeconds: 300 });
    assert.ok(buckets.length >= 4);
    for (const b of buckets) {
      const start = Date.parse(b.bucketStart);
      const inBucket = posts.filter((p) => p.topics.includes(b.topic) && Date.parse(p.createdAt) >= start && Date.parse(p.createdAt) < start + 300_000);
      const ref = reference(inBucket.map((p) => p.score));
      assert.equal(b.count, inBucket.length);
      near(b.scoreStdDev, ref.sd, 1e-9, `${b.topic} stddev`);
      assert.ok(b.meanScoreCi95 && ref.ci);
      near(b.meanScoreCi95[0], ref.ci[0], 1e-9, `${b.topic} lower`);
      near(b.meanScoreCi95[1], ref.ci[1], 1e-9, `${b.topic} upper`);
      for (const label of LABELS) {
        const k = inBucket.filter((p) => p.label === label).length;
        assert.deepEqual(b.sharesCi95[label], wilsonInterval(k, inBucket.length), `${b.topic} ${label}`);
      }
      assert.equal(b.tooFewPosts, inBucket.length < DEFAULT_MIN_POSTS, `${b.topic} @ ${b.bucketStart}: ${inBucket.length} posts`);
    }
    assert.ok(buckets.some((b) => b.topic === 'rare' && b.tooFewPosts));
    assert.ok(buckets.some((b) => b.topic === 'busy' && !b.tooFewPosts));
    // The minimum is the reader's to set.
    assert.ok((await query.buckets({ bucketSeconds: 300, minPosts: 1 })).every((b) => !b.tooFewPosts));
    for (const s of await query.topics()) {
      const mine = posts.filter((p) => p.topics.includes(s.topic));
      const byLabel = Object.fromEntries(LABELS.map((l) => [l, mine.filter((p) => p.label === l).length])) as Record<Label, number>;
      const expected = uncertaintyOf({
        n: mine.length,
        sum: mine.reduce((a, p) => a + p.score, 0),
        sumOfSquares: mine.reduce((a, p) => a + p.score ** 2, 0),
        byLabel,
      });
      near(s.scoreStdDev, expected.scoreStdDev, 1e-9, `${s.topic} stddev`);
      assert.deepEqual(s.sharesCi95, expected.sharesCi95);
      assert.equal(s.tooFewPosts, expected.tooFewPosts);
    }
  } finally {
    await query.close();
  }
});
