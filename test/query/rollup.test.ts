/**
 * #13.7 rollups of the embedded store: the answers of rollups plus rows equal those of the rows
 * alone (on a copy of the file without rollups), for every bucket width rollups serve, ragged range
 * ends, both amplification modes, one language or all; a window written after it was rolled up is
 * read from the rows until it is rolled again; a file written before rollups gets them.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { ScoredPost } from '../../src/contract/index.js';
import { OPINION_WINDOW_MS } from '../../src/query/amplification.js';
import { compareCodePoints } from '../../src/query/rollup-plan.js';
import type { SentimentBucket, TimeRange, TopicSummary } from '../../src/query/sentiment-query.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { mulberry32 } from '../../src/model/prng.js';
import { tempDir } from '../helpers.js';
import { scoredPost } from '../influxdb/server.js';

const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
const HOUR = OPINION_WINDOW_MS;
const TOPICS = ['markets', 'crypto', 'Zürich', '𝔘nicode', '\uE000private'];
const LANGS = ['en', 'es', 'und'];

/** `count` posts over `hours` from T0: originals, retweets of stored and unstored posts (across hours too), quotes. */
function postsOf(count: number, hours: number, seed: number): ScoredPost[] {
  const next = mulberry32(seed);
  const posts: ScoredPost[] = [];
  for (let i = 0; i < count; i += 1) {
    const at = T0 + Math.floor(next() * hours * HOUR);
    const score = Math.round((next() * 2 - 1) * 1000) / 1000;
    const label = score > 0.3 ? 'positive' : score < -0.3 ? 'negative' : 'neutral';
    const topics = next() < 0.2 ? [TOPICS[i % TOPICS.length] as string, TOPICS[(i + 1) % TOPICS.length] as string] : [TOPICS[i % TOPICS.length] as string];
    const base = scoredPost(at, (seed * 100_000 + i) % 4_000_000, { topics, lang: LANGS[Math.floor(next() * LANGS.length)] as string });
    const kind = next();
    const earlier = posts.length > 0 ? posts[Math.floor(next() * posts.length)] : undefined;
    const ref =
      kind < 0.3 && earlier
        ? { refKind: 'retweeted' as const, refId: earlier.id }
        : kind < 0.4
          ? { refKind: 'retweeted' as const, refId: String(900_000 + Math.floor(next() * 20)) }
          : kind < 0.45 && earlier
            ? { refKind: 'quoted' as const, refId: earlier.id }
            : {};
    posts.push({ ...base, score, label, authorId: String(Math.floor(next() * 50)), ...ref });
  }
  return posts;
}

/** The store's file written in batches, and a copy of it without rollups (answers from the rows alone). */
async function storeAndRowsOnly(posts: readonly ScoredPost[]): Promise<{ path: string; rowsOnly: SqliteQuery; store: SqliteStore }> {
  const dir = tempDir('rollup');
  const path = join(dir, 'store.db');
  const store = new SqliteStore(path);
  for (let i = 0; i < posts.length; i += 500) await store.write(posts.slice(i, i + 500));
  store.rollAll(60_000);
  const copy = join(dir, 'rows-only.db');
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  copyFileSync(path, copy);
  const db = new Database(copy);
  db.exec('DROP TABLE sentiment_rollup; DROP TABLE sentiment_rollup_supported; DROP TABLE rollup_dirty;');
  db.close();
  return { path, rowsOnly: new SqliteQuery(copy), store };
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function assertSameAggregates(actual: readonly (SentimentBucket | TopicSummary)[], expected: readonly (SentimentBucket | TopicSummary)[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: as many aggregates`);
  actual.forEach((a, i) => {
    const e = expected[i] as SentimentBucket | TopicSummary;
    const where = `${what} #${i} (${e.topic})`;
    assert.equal(a.topic, e.topic, where);
    assert.equal('bucketStart' in a ? a.bucketStart : a.firstAt, 'bucketStart' in e ? e.bucketStart : e.firstAt, where);
    if (!('bucketStart' in a) && !('bucketStart' in e)) assert.equal(a.lastAt, e.lastAt, where);
    assert.equal(a.count, e.count, where);
    assert.equal(a.opinions, e.opinions, where);
    assert.equal(a.tooFewPosts, e.tooFewPosts, where);
    assert.ok(close(a.meanScore, e.meanScore), `${where}: mean ${a.meanScore} vs ${e.meanScore}`);
    assert.ok(close(a.scoreStdDev, e.scoreStdDev), `${where}: sd ${a.scoreStdDev} vs ${e.scoreStdDev}`);
    for (const label of ['negative', 'neutral', 'positive'] as const) assert.ok(close(a.shares[label], e.shares[label]), `${where}: ${label}`);
    assert.equal(a.meanScoreCi95 === null, e.meanScoreCi95 === null, where);
    if (a.meanScoreCi95 && e.meanScoreCi95) assert.ok(close(a.meanScoreCi95[0], e.meanScoreCi95[0]) && close(a.meanScoreCi95[1], e.meanScoreCi95[1]), where);
  });
}

test('rollups plus rows answer what the rows alone answer: widths of whole hours, ragged ends, both modes, one language or all', async (t) => {
  const { rowsOnly, store, path } = await storeAndRowsOnly(postsOf(6000, 72, 7));
  const rolled = new SqliteQuery(path);
  t.after(async () => {
    await Promise.all([rolled.close(), rowsOnly.close(), store.close()]);
  });
  assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM rollup_dirty').get() as { n: number }).n, 0, 'every window rolled up');
  const ranges: TimeRange[] = [
    {},
    { from: new Date(T0 + 17 * 60_000), to: new Date(T0 + 49 * HOUR + 5 * 60_000) },
    { from: new Date(T0 + 6 * HOUR), to: new Date(T0 + 30 * HOUR), topics: ['crypto', '𝔘nicode'] },
    { from: new Date(T0 + 90 * 60_000), to: new Date(T0 + 100 * 60_000) },
  ];
  for (const range of ranges)
    for (const amplification of ['weighted', 'count'] as const)
      for (const langs of [[], ['es'], ['en', 'und']]) {
        const r = { ...range, amplification, langs, minPosts: 20 };
        const what = `${JSON.stringify({ from: range.from, to: range.to, topics: range.topics, amplification, langs })}`;
        for (const bucketSeconds of [3600, 21_600, 86_400, 1800])
          assertSameAggregates(
            await rolled.buckets({ ...r, bucketSeconds }),
            await rowsOnly.buckets({ ...r, bucketSeconds }),
            `${what} buckets ${bucketSeconds}`,
          );
        for (const order of ['count', 'newest', 'oldest'] as const)
          assertSameAggregates(await rolled.topics({ ...r, order }), await rowsOnly.topics({ ...r, order }), `${what} topics ${order}`);
        assertSameAggregates(await rolled.topics({ ...r, limit: 2 }), await rowsOnly.topics({ ...r, limit: 2 }), `${what} top 2`);
      }
  // Topics sort as SQLite does: by code point, so U+1D518 comes after U+E000.
  const names = (await rolled.topics({ order: 'newest' })).map((s) => s.topic);
  assert.ok(compareCodePoints('\uE000private', '𝔘nicode') < 0 && '\uE000private' > '𝔘nicode');
  assert.deepEqual(
    names,
    (await rowsOnly.topics({ order: 'newest' })).map((s) => s.topic),
  );
});

test('a rolled-up window is answered from its rollup; written again, from its rows until it is rolled up again', async (t) => {
  const posts = postsOf(800, 6, 11);
  const { path, store } = await storeAndRowsOnly(posts);
  const query = new SqliteQuery(path);
  t.after(async () => {
    await Promise.all([query.close(), store.close()]);
  });
  const day = { bucketSeconds: 86_400, topics: ['markets'] };
  const [before] = await query.buckets(day);
  assert.ok(before);
  // Behind the roller's back: a rollup that no longer matches its rows shows in the answer, so the answer came from it
  // (the default query leaves posts in unsupported languages out: it reads the rollups of the others).
  const window = T0 + 2 * HOUR;
  const tampered = store.db
    .prepare(
      "UPDATE sentiment_rollup_supported SET sum_w = sum_w + 1000, sum_ws = sum_ws + 1000 WHERE topic = 'markets' AND window_start = ? AND lang = '*' AND mode = 'weighted'",
    )
    .run(window);
  assert.equal(tampered.changes, 1);
  const [fromRollup] = await query.buckets(day);
  assert.equal(fromRollup?.count, before.count + 1000);
  // A post written into that window marks it: its rows answer (the tampered rollup is ignored), new post included.
  const late = { ...scoredPost(window + 60_000, 3_999_999, { topics: ['markets'] }), score: 0.5, label: 'positive' as const };
  await store.write([late]);
  const [afterWrite] = await query.buckets(day);
  assert.equal(afterWrite?.count, before.count + 1);
  assert.equal(afterWrite?.opinions, before.opinions + 1);
  // Rolled up again (the quiet period passed): the rollup holds the rows again, the mark is gone.
  const { rolled, left } = store.rollAll(10_000);
  assert.deepEqual([rolled, left], [1, 0]);
  assertSameAggregates(await query.buckets(day), afterWrite ? [afterWrite] : [], 'rolled up again');
  const row = store.db
    .prepare("SELECT sum_w FROM sentiment_rollup_supported WHERE topic = 'markets' AND window_start = ? AND lang = '*' AND mode = 'weighted'")
    .get(window) as {
    sum_w: number;
  };
  const rows = store.db
    .prepare("SELECT COUNT(*) AS n FROM post_sentiment WHERE topic = 'markets' AND created_at >= ? AND created_at < ?")
    .get(window, window + HOUR) as {
    n: number;
  };
  assert.equal(row.sum_w, rows.n);
});

test('the roller rolls up windows once they are quiet, between batches; a file written before rollups gets them, every window marked', async (t) => {
  const dir = tempDir('rollup-timer');
  const posts = postsOf(300, 5, 3);
  const timing = { rollupIntervalMs: 20, rollupSliceMs: 50, rollupCloseMs: 0 };
  // Quiet for a minute first: nothing is rolled up while the windows are being written.
  const busy = new SqliteStore(join(dir, 'busy.db'), { ...timing, rollupQuietMs: 60_000 });
  t.after(() => busy.close());
  await busy.write(posts);
  const distinctWindows = (
    busy.db.prepare(`SELECT COUNT(*) AS n FROM (SELECT DISTINCT topic, created_at / ${HOUR} FROM post_sentiment)`).get() as { n: number }
  ).n;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(busy.pendingRollups(), distinctWindows);
  // No quiet period: the timer rolls every window up.
  const path = join(dir, 'store.db');
  const quiet = new SqliteStore(path, { ...timing, rollupQuietMs: 0 });
  await quiet.write(posts);
  for (let i = 0; i < 250 && quiet.pendingRollups() > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(quiet.pendingRollups(), 0);
  await quiet.close();
  // An older file: no rollup tables at all.
  const db = new Database(path);
  db.exec('DROP TABLE sentiment_rollup; DROP TABLE sentiment_rollup_supported; DROP TABLE rollup_dirty;');
  db.close();
  const reader = new SqliteQuery(path);
  const rowsAnswer = await reader.buckets({ bucketSeconds: 3600 });
  await reader.close();
  const reopened = new SqliteStore(path, { ...timing, rollupIntervalMs: 60_000, rollupQuietMs: 60_000 });
  t.after(() => reopened.close());
  assert.equal((reopened.db.prepare('SELECT COUNT(*) AS n FROM rollup_dirty WHERE touched_at = 0').get() as { n: number }).n, distinctWindows);
  const query = new SqliteQuery(path);
  t.after(() => query.close());
  assertSameAggregates(await query.buckets({ bucketSeconds: 3600 }), rowsAnswer, 'marked windows answered from their rows');
  assert.deepEqual(reopened.rollAll(60_000), { rolled: distinctWindows, left: 0 });
  assertSameAggregates(await query.buckets({ bucketSeconds: 3600 }), rowsAnswer, 'rolled up');
});
