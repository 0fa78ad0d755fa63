/**
 * #13.3: how retweets, quotes and one author's flood count, checked against a computation by hand
 * on the embedded store (test/influxdb/query.test.ts checks that InfluxDB answers the same).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'node:test';
import { amplificationOf, postFromStreamLine, type ScoredPost } from '../../src/contract/index.js';
import { uncertaintyOf, weightedUncertaintyOf, tQuantile975 } from '../../src/query/intervals.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { scoredPost } from '../influxdb/server.js';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);

/** A post of `score` (label from its sign) at T0 + `second` s. */
function post(second: number, low: number, score: number, fields: Partial<ScoredPost> = {}): ScoredPost {
  const base = scoredPost(T0 + second * 1000, low);
  const label = score > 0.3 ? 'positive' : score < -0.3 ? 'negative' : 'neutral';
  return { ...base, score, label, ...fields };
}

async function storeOf(posts: ScoredPost[]): Promise<SqliteQuery> {
  const path = join(tempDir('amplification'), 'store.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();
  return new SqliteQuery(path);
}

test('a retweet adds weight to its original instead of counting as an opinion; quotes and replies count on their own', async (t) => {
  const a = post(1, 1, 0.8, { authorId: '1' });
  const posts = [
    a,
    post(2, 2, 0.7, { authorId: '2', refKind: 'retweeted', refId: a.id }),
    post(3, 3, 0.75, { authorId: '3', refKind: 'retweeted', refId: a.id }),
    post(4, 4, 0.6, { authorId: '4', refKind: 'retweeted', refId: a.id }),
    post(5, 5, -0.5, { authorId: '5' }),
    post(6, 6, 0.2, { authorId: '6', refKind: 'quoted', refId: a.id }),
    post(7, 7, -0.9, { authorId: '7', refKind: 'replied_to', refId: a.id }),
    // Two retweets of a post that is not stored: one opinion, scored as their mean.
    post(8, 8, 0.1, { authorId: '8', refKind: 'retweeted', refId: '77' }),
    post(9, 9, 0.3, { authorId: '9', refKind: 'retweeted', refId: '77' }),
  ];
  const query = await storeOf(posts);
  t.after(() => query.close());

  // By hand: opinions (weight, score) = a (4, 0.8), b (1, −0.5), quote (1, 0.2), reply (1, −0.9), 77 (2, 0.2).
  const opinions = [
    [4, 0.8],
    [1, -0.5],
    [1, 0.2],
    [1, -0.9],
    [2, 0.2],
  ] as const;
  const w1 = opinions.reduce((s, [w]) => s + w, 0);
  const w2 = opinions.reduce((s, [w]) => s + w * w, 0);
  const mean = opinions.reduce((s, [w, x]) => s + w * x, 0) / w1;
  const variance = (opinions.reduce((s, [w, x]) => s + w * (x - mean) ** 2, 0) / w1) * ((w1 * w1) / (w1 * w1 - w2));
  const nEff = (w1 * w1) / w2;
  const half = (tQuantile975(Math.floor(nEff) - 1) * Math.sqrt(variance)) / Math.sqrt(nEff);

  const [bucket] = await query.buckets({ bucketSeconds: 60 });
  assert.ok(bucket);
  assert.equal(bucket.count, 9);
  assert.equal(bucket.opinions, 5);
  assert.ok(Math.abs(bucket.meanScore - mean) < 1e-12, `${bucket.meanScore} vs ${mean}`);
  assert.ok(Math.abs(bucket.scoreStdDev - Math.sqrt(variance)) < 1e-12);
  assert.ok(bucket.meanScoreCi95);
  // n_eff = 9²/23 ≈ 3.5 opinions, not 9 posts: a wide interval, clipped to the score's range.
  assert.ok(Math.abs(bucket.meanScoreCi95[0] - Math.max(-1, mean - half)) < 1e-12 && Math.abs(bucket.meanScoreCi95[1] - Math.min(1, mean + half)) < 1e-12);
  assert.ok(half > 0.9, 'as wide as 3.5 opinions make it');
  // Labels follow the opinion: a's retweets are positive with a, the unseen post's two retweets keep theirs (neutral).
  assert.ok(Math.abs(bucket.shares.positive - 4 / 9) < 1e-12);
  assert.ok(Math.abs(bucket.shares.negative - 2 / 9) < 1e-12);
  assert.ok(Math.abs(bucket.shares.neutral - 3 / 9) < 1e-12);

  // count: every post one opinion, exactly the unweighted statistics.
  const [counted] = await query.buckets({ bucketSeconds: 60, amplification: 'count' });
  assert.ok(counted);
  const scores = posts.map((p) => p.score);
  const expected = uncertaintyOf({
    n: scores.length,
    sum: scores.reduce((s, x) => s + x, 0),
    sumOfSquares: scores.reduce((s, x) => s + x * x, 0),
    byLabel: { negative: 2, neutral: 3, positive: 4 },
  });
  assert.equal(counted.count, 9);
  assert.equal(counted.opinions, 9);
  assert.ok(Math.abs(counted.scoreStdDev - expected.scoreStdDev) < 1e-12);
  assert.deepEqual(counted.sharesCi95, expected.sharesCi95);

  // The retweet lands in another bucket than its original: there it stands for the original on its own.
  const [, later] = await query.buckets({ bucketSeconds: 4 });
  assert.ok(later);
  assert.equal(later.bucketStart, new Date(T0 + 4000).toISOString());
  assert.equal(later.opinions, 4); // a's retweet at 4 s, b, the quote, the reply
});

test('a retweet joins its original only within the same UTC hour (the opinion window), whatever the bucket width', async (t) => {
  // T0 is 09:00:00; the original at 09:59:30, one retweet at 09:59:50 and two at 10:00:10 and 10:00:20.
  const original = post(3570, 1, 0.8, { authorId: '1' });
  const query = await storeOf([
    original,
    post(3590, 2, 0.7, { authorId: '2', refKind: 'retweeted', refId: original.id }),
    post(3610, 3, 0.6, { authorId: '3', refKind: 'retweeted', refId: original.id }),
    post(3620, 4, 0.4, { authorId: '4', refKind: 'retweeted', refId: original.id }),
  ]);
  t.after(() => query.close());
  const [day] = await query.buckets({ bucketSeconds: 86_400 });
  const [summary] = await query.topics();
  for (const aggregate of [day, summary]) {
    assert.ok(aggregate);
    // Two opinions: the original with its retweet before 10:00 (weight 2, scored 0.8), and the two
    // retweets after it (weight 2, scored as their mean, 0.5).
    assert.equal(aggregate.count, 4);
    assert.equal(aggregate.opinions, 2);
    assert.ok(Math.abs(aggregate.meanScore - (2 * 0.8 + 2 * 0.5) / 4) < 1e-12);
    const expected = weightedUncertaintyOf({
      n: 2,
      sumOfWeights: 4,
      sumOfSquaredWeights: 8, // n_eff = (2 + 2)² / (2² + 2²) = 2
      weightedSum: 2 * 0.8 + 2 * 0.5,
      weightedSumOfSquares: 2 * 0.8 ** 2 + 2 * 0.5 ** 2,
      weightByLabel: { negative: 0, neutral: 0, positive: 4 },
    });
    assert.ok(Math.abs(aggregate.scoreStdDev - expected.scoreStdDev) < 1e-12);
    assert.deepEqual(aggregate.meanScoreCi95, expected.meanScoreCi95);
  }
});

test('an author cap keeps an author’s earliest posts per (topic, bucket); posts of unknown authors are never capped', async (t) => {
  const flood = Array.from({ length: 20 }, (_, i) => post(i, 100 + i, -0.9, { authorId: '666' }));
  const others = Array.from({ length: 10 }, (_, i) => post(i, 200 + i, 0.5, { authorId: String(300 + i) }));
  const anonymous = Array.from({ length: 5 }, (_, i) => post(i, 400 + i, 0.1));
  const query = await storeOf([...flood, ...others, ...anonymous]);
  t.after(() => query.close());
  const [all] = await query.buckets({ bucketSeconds: 60 });
  const [capped] = await query.buckets({ bucketSeconds: 60, authorCap: 3 });
  assert.equal(all?.count, 35);
  assert.equal(capped?.count, 3 + 10 + 5);
  assert.ok(Math.abs((capped?.meanScore ?? NaN) - (3 * -0.9 + 10 * 0.5 + 5 * 0.1) / 18) < 1e-12);
  // Per bucket: with 10-second buckets the flood keeps 3 in each.
  const perBucket = await query.buckets({ bucketSeconds: 10, authorCap: 3 });
  assert.deepEqual(
    perBucket.map((b) => b.count),
    [3 + 10 + 5, 3],
  );
  const [summary] = await query.topics({ authorCap: 3 });
  assert.equal(summary?.count, 18, 'a summary is one bucket: the cap applies over its whole range');
});

test('a language filter keeps only those languages', async (t) => {
  const query = await storeOf([post(1, 1, 0.5, { lang: 'en' }), post(2, 2, -0.5, { lang: 'es' }), post(3, 3, 0.1, { lang: 'und' })]);
  t.after(() => query.close());
  assert.deepEqual(
    (await query.topics({ langs: ['es', 'und'] })).map((s) => s.count),
    [2],
  );
  assert.equal((await query.topics({ langs: ['es'] }))[0]?.meanScore, -0.5);
});

test('equal weights give exactly the unweighted intervals', () => {
  const stats = { n: 40, sum: 6.5, sumOfSquares: 17.25, byLabel: { negative: 9, neutral: 11, positive: 20 } };
  const weighted = weightedUncertaintyOf({
    n: 40,
    sumOfWeights: 40,
    sumOfSquaredWeights: 40,
    weightedSum: 6.5,
    weightedSumOfSquares: 17.25,
    weightByLabel: stats.byLabel,
  });
  assert.deepEqual(weighted, uncertaintyOf(stats));
});

test('the stream’s author and references reach the post; retweet wins over reply; malformed ids are ignored', () => {
  const line = (data: object): string => JSON.stringify({ data: { id: '5', text: 'x', ...data }, matching_rules: [{ id: '1', tag: 't' }] });
  const r = postFromStreamLine(
    line({
      author_id: '0042',
      referenced_tweets: [
        { type: 'replied_to', id: '9' },
        { type: 'retweeted', id: '8' },
      ],
    }),
    T0,
  );
  assert.ok(r.ok);
  assert.deepEqual([r.value.authorId, r.value.refKind, r.value.refId], ['42', 'retweeted', '8']);
  assert.deepEqual(
    amplificationOf({
      author_id: 'bob',
      referenced_tweets: [
        { type: 'quoted', id: 'x1' },
        { type: 'weird', id: '3' },
      ],
    }),
    {},
  );
  const plain = postFromStreamLine(line({}), T0);
  assert.ok(plain.ok && !('authorId' in plain.value) && !('refKind' in plain.value));
});

test('a store file of schema 1 is read as it is and gains the amplification columns when opened for writing', async () => {
  const path = join(tempDir('schema-v1'), 'store.db');
  const v1 = new Database(path);
  v1.exec(`CREATE TABLE post_sentiment (post_id TEXT NOT NULL, topic TEXT NOT NULL, created_at INTEGER NOT NULL, lang TEXT NOT NULL,
    label TEXT NOT NULL, neg REAL NOT NULL, neu REAL NOT NULL, pos REAL NOT NULL, score REAL NOT NULL, model TEXT NOT NULL,
    flags TEXT NOT NULL, ingested_at INTEGER NOT NULL, analyzed_at INTEGER NOT NULL, stored_at INTEGER NOT NULL, PRIMARY KEY (post_id, topic));
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '1');`);
  v1.prepare('INSERT INTO post_sentiment VALUES (?, ?, ?, ?, ?, 0, 0, 1, 1, ?, ?, 0, 0, 0)').run('7', 'markets', T0, 'en', 'positive', 'm', '');
  v1.close();
  const before = new SqliteQuery(path);
  assert.deepEqual(
    (await before.topics()).map((s) => [s.topic, s.count, s.opinions]),
    [['markets', 1, 1]],
  );
  await before.close();
  const store = new SqliteStore(path);
  await store.write([post(2, 9, -0.5, { refKind: 'retweeted', refId: '7', authorId: '3' })]);
  await store.close();
  const after = new SqliteQuery(path);
  const [summary] = await after.topics();
  await after.close();
  assert.deepEqual([summary?.count, summary?.opinions], [2, 1], 'the retweet joins the v1 row it retweets');
  const db = new Database(path, { readonly: true });
  assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, '2');
  db.close();
});
