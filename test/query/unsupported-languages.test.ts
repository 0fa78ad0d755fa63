/**
 * #17.5 posts in languages the model does not support (flagged non_english) are stored, left out of
 * counts, means, shares and intervals by default and counted per topic as left out; an option
 * includes them. The embedded store answers the same from its rows and from its rollups, and a file
 * rolled up before the rollups of supported posts existed is rolled afresh (read from the rows until then).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { FLAG_NON_ENGLISH, type ScoredPost } from '../../src/contract/index.js';
import type { TimeRange } from '../../src/query/sentiment-query.js';
import { formatSummary } from '../../src/roles/summary.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';
import { assertSame, HOUR, leftOutOf, mixedPosts, T0 } from '../fixtures/unsupported-languages.js';

async function storeOf(path: string, posts: readonly ScoredPost[]): Promise<SqliteStore> {
  const store = new SqliteStore(path);
  for (let i = 0; i < posts.length; i += 400) await store.write(posts.slice(i, i + 400));
  store.rollAll(60_000);
  return store;
}

const RANGES: TimeRange[] = [
  {},
  { from: new Date(T0 + 17 * 60_000), to: new Date(T0 + 6 * HOUR + 5 * 60_000) },
  { from: new Date(T0 + HOUR), to: new Date(T0 + 5 * HOUR), langs: ['en'] },
  { from: new Date(T0 + HOUR), to: new Date(T0 + 5 * HOUR), langs: ['es'] },
  { authorCap: 2 },
  { langs: ['en', 'pt'] },
];

test('by default, posts in unsupported languages are left out of every figure, from the rows and from the rollups, and counted per topic', async (t) => {
  const posts = mixedPosts(3000, 5);
  const supported = posts.filter((p) => !p.flags.includes(FLAG_NON_ENGLISH));
  const dir = tempDir('unsupported');
  const store = await storeOf(join(dir, 'all.db'), posts);
  const reference = await storeOf(join(dir, 'supported.db'), supported);
  const rolled = new SqliteQuery(join(dir, 'all.db'));
  const rows = new SqliteQuery(join(dir, 'all.db'), { rollups: false });
  const expected = new SqliteQuery(join(dir, 'supported.db'));
  t.after(async () => {
    await Promise.all([rolled.close(), rows.close(), expected.close(), store.close(), reference.close()]);
  });
  assert.equal(store.pendingRollups(), 0);
  for (const range of RANGES)
    for (const amplification of ['weighted', 'count'] as const) {
      const r = { ...range, amplification, minPosts: 10 };
      const what = JSON.stringify(r);
      for (const query of [rolled, rows]) {
        const kind = query === rolled ? 'rollups' : 'rows';
        for (const bucketSeconds of [3600, 7200, 1800])
          assertSame(await query.buckets({ ...r, bucketSeconds }), await expected.buckets({ ...r, bucketSeconds }), `${kind} ${what} buckets ${bucketSeconds}`);
        const summaries = await query.topics(r);
        const counted = summaries.filter((s) => s.count > 0);
        assertSame(counted, await expected.topics(r), `${kind} ${what} topics`);
        const leftOut = leftOutOf(posts, r);
        assert.ok([...leftOut.values()].some((n) => n > 0) || range.langs?.includes('en') === true, `${what}: the range has posts to leave out`);
        assert.deepEqual(new Map(summaries.filter((s) => s.leftOut > 0).map((s) => [s.topic, s.leftOut])), leftOut, `${kind} ${what}: left out per topic`);
        // Topics of posts left out alone come last, with nothing counted.
        const empty = summaries.filter((s) => s.count === 0);
        assert.deepEqual(summaries.slice(counted.length), empty, `${kind} ${what}: emptied topics last`);
        for (const s of empty) assert.ok(s.leftOut > 0 && s.firstAt === undefined && s.opinions === 0, `${kind} ${what}: ${s.topic}`);
        if (range.langs === undefined && range.from === undefined)
          assert.deepEqual(
            empty.map((s) => s.topic),
            ['spanish-only'],
          );
        // A limit counts them as topics.
        assert.deepEqual(
          (await query.topics({ ...r, limit: counted.length + 1 })).map((s) => s.topic),
          summaries.slice(0, counted.length + 1).map((s) => s.topic),
        );
      }
    }
});

test('unsupportedLanguages: include counts every post, from the rows and from the rollups, and leaves none out', async (t) => {
  const posts = mixedPosts(2000, 9);
  const dir = tempDir('unsupported-include');
  const store = await storeOf(join(dir, 'all.db'), posts);
  // The same posts stored without their flag: what "every post" means.
  const reference = await storeOf(
    join(dir, 'unflagged.db'),
    posts.map((p) => ({ ...p, flags: [] })),
  );
  const rolled = new SqliteQuery(join(dir, 'all.db'));
  const rows = new SqliteQuery(join(dir, 'all.db'), { rollups: false });
  const expected = new SqliteQuery(join(dir, 'unflagged.db'));
  t.after(async () => {
    await Promise.all([rolled.close(), rows.close(), expected.close(), store.close(), reference.close()]);
  });
  for (const range of RANGES)
    for (const query of [rolled, rows]) {
      const r = { ...range, unsupportedLanguages: 'include' as const, minPosts: 10 };
      const what = `${query === rolled ? 'rollups' : 'rows'} ${JSON.stringify(r)}`;
      assertSame(await query.buckets({ ...r, bucketSeconds: 3600 }), await expected.buckets({ ...r, bucketSeconds: 3600 }), `${what} buckets`);
      const summaries = await query.topics(r);
      assertSame(summaries, await expected.topics(r), `${what} topics`);
      assert.ok(
        summaries.every((s) => s.leftOut === 0),
        what,
      );
    }
  assert.ok((await rolled.topics({ unsupportedLanguages: 'include' })).some((s) => s.topic === 'spanish-only' && s.count > 0));
});

test('a file rolled up before the rollups of supported posts is read from its rows, then rolled afresh when a store opens it', async (t) => {
  const posts = mixedPosts(1500, 13);
  const dir = tempDir('unsupported-old-file');
  const path = join(dir, 'old.db');
  const store = await storeOf(path, posts);
  await store.close();
  // What a file of the version before looks like: every window rolled up, no rollups of supported posts.
  const db = new Database(path);
  db.exec('DROP TABLE sentiment_rollup_supported');
  db.close();
  const reference = await storeOf(
    join(dir, 'supported.db'),
    posts.filter((p) => !p.flags.includes(FLAG_NON_ENGLISH)),
  );
  const expected = new SqliteQuery(join(dir, 'supported.db'));
  t.after(async () => {
    await Promise.all([expected.close(), reference.close()]);
  });
  const day = { bucketSeconds: 86_400, minPosts: 10 };
  const want = await expected.buckets(day);
  const wantTopics = (await expected.topics({ minPosts: 10 })).map((s) => s.topic);
  const leftOut = leftOutOf(posts);

  const reader = new SqliteQuery(path);
  t.after(() => reader.close());
  assertSame(await reader.buckets(day), want, 'read-only, old file: from the rows');
  assert.deepEqual(new Map((await reader.topics()).filter((s) => s.leftOut > 0).map((s) => [s.topic, s.leftOut])), leftOut);

  const reopened = new SqliteStore(path, { rollupIntervalMs: 60_000, rollupQuietMs: 60_000, rollupSliceMs: 50, rollupCloseMs: 0 });
  t.after(() => reopened.close());
  assert.ok(reopened.pendingRollups() > 0, 'every window marked to be rolled afresh');
  assertSame(await reader.buckets(day), want, 'marked windows: from the rows');
  reopened.rollAll(60_000);
  assert.equal(reopened.pendingRollups(), 0);
  const rolledCount = (reopened.db.prepare('SELECT COUNT(*) AS n FROM sentiment_rollup_supported').get() as { n: number }).n;
  assert.ok(rolledCount > 0);
  assertSame(await reader.buckets(day), want, 'rolled afresh');
  const topics = await reader.topics({ minPosts: 10 });
  assert.deepEqual(
    topics.filter((s) => s.count > 0).map((s) => s.topic),
    wantTopics,
  );
  assert.deepEqual(new Map(topics.filter((s) => s.leftOut > 0).map((s) => [s.topic, s.leftOut])), leftOut);
});

test('the run summary prints, per topic, the posts left out, and how to count them', async (t) => {
  const posts = mixedPosts(600, 17);
  const dir = tempDir('unsupported-summary');
  const store = await storeOf(join(dir, 'all.db'), posts);
  const query = new SqliteQuery(join(dir, 'all.db'));
  t.after(async () => {
    await Promise.all([query.close(), store.close()]);
  });
  const summary = {
    linesRead: posts.length,
    postsStored: posts.length,
    deadLetters: new Map<string, number>(),
    unfinished: 0,
    interrupted: undefined,
    seconds: 1,
    modelId: 'test',
    topicsError: undefined,
    store: 'sqlite',
    deadLetterPath: 'dl.ndjson',
    metricsUrl: undefined,
  };
  const text = formatSummary({ ...summary, topics: await query.topics() });
  const leftOut = leftOutOf(posts);
  const total = [...leftOut.values()].reduce((a, b) => a + b, 0);
  assert.match(text, /topic\s+posts\s+mean score\s+negative\s+neutral\s+positive\s+left out\n/);
  for (const [topic, n] of leftOut) assert.match(text, new RegExp(`\\n  ${topic} .* ${n}\\n`), topic);
  assert.match(text, /\n {2}spanish-only +0 +0\.000 +0\.0% +0\.0% +0\.0% +\d+\n/, 'a topic of posts left out alone: nothing counted');
  assert.ok(text.includes(`left out: ${total} posts in languages the model does not support`), text);
  // Nothing left out: no column, no line.
  const included = formatSummary({ ...summary, topics: await query.topics({ unsupportedLanguages: 'include' }) });
  assert.ok(!included.includes('left out'), included);
});
