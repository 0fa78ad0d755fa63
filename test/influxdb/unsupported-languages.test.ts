/**
 * #17.5 against a real InfluxDB: posts in languages the model does not support (flagged non_english)
 * are stored with their flag (a field), left out of every figure by default and counted per topic as
 * left out, from the posts and through the rollups alike; unsupportedLanguages: include counts them.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { FLAG_NON_ENGLISH, type ScoredPost } from '../../src/contract/index.js';
import type { TimeRange } from '../../src/query/sentiment-query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { encodeSince } from '../../src/sinks/influxdb/rollup.js';
import { assertSame, HOUR, leftOutOf, mixedPosts, T0 } from '../fixtures/unsupported-languages.js';
import { MemoryDeadLetters } from '../helpers.js';
import { testDatabase } from './server.js';

/** The posts written through the sink (which marks them) and rolled up on close; a rolled and a posts-only query. */
async function stored(t: TestContext, posts: readonly ScoredPost[]) {
  const db = await testDatabase(t);
  if (!db) return undefined;
  t.after(() => db.drop());
  const since = await db.write(encodeSince(T0 - 86_400_000, Date.now(), { measurement: 'post_sentiment' }), 'ns');
  assert.equal(since.status, 204);
  const config = db.config({ rollupCloseMs: 60_000 });
  const sink = buildInfluxSink(config, new MemoryDeadLetters());
  await sink.write(posts);
  await sink.close();
  const rolled = new InfluxQuery(config);
  const rows = new InfluxQuery(config, { rollups: false });
  t.after(async () => {
    await rolled.close();
    await rows.close();
  });
  return { db, rolled, rows };
}

const RANGES: TimeRange[] = [
  {},
  { from: new Date(T0 + 17 * 60_000), to: new Date(T0 + 6 * HOUR + 5 * 60_000) },
  { from: new Date(T0 + HOUR), to: new Date(T0 + 5 * HOUR), langs: ['es'] },
  { langs: ['en'] },
];

/** Count mode: every (post, topic) of the range counted, and its mean score, per topic. */
function expectedCounts(posts: readonly ScoredPost[], range: TimeRange, include: boolean): Map<string, { n: number; mean: number }> {
  const sums = new Map<string, { n: number; sum: number }>();
  for (const p of posts) {
    const at = Date.parse(p.createdAt);
    if ((range.from && at < range.from.getTime()) || (range.to && at >= range.to.getTime()) || (range.langs && !range.langs.includes(p.lang))) continue;
    if (!include && p.flags.includes(FLAG_NON_ENGLISH)) continue;
    for (const topic of new Set(p.topics)) {
      const s = sums.get(topic) ?? { n: 0, sum: 0 };
      sums.set(topic, { n: s.n + 1, sum: s.sum + p.score });
    }
  }
  return new Map([...sums].map(([topic, s]) => [topic, { n: s.n, mean: s.sum / s.n }]));
}

test('by default the posts left out are those flagged, from the posts and the rollups alike; include counts them all', async (t) => {
  const posts = mixedPosts(1500, 21);
  const s = await stored(t, posts);
  if (!s) return;
  // The flag is stored with the post.
  const flagged = await s.db.influxql(`SELECT count("flags") FROM "post_sentiment" WHERE "flags" = '${FLAG_NON_ENGLISH}'`);
  assert.equal(
    flagged.results[0]?.series?.[0]?.values[0]?.[1],
    posts.filter((p) => p.flags.length > 0).reduce((n, p) => n + new Set(p.topics).size, 0),
  );
  for (const range of RANGES)
    for (const include of [false, true]) {
      const base: TimeRange = { ...range, minPosts: 10, ...(include ? { unsupportedLanguages: 'include' as const } : {}) };
      const counts = expectedCounts(posts, range, include);
      const leftOut = include ? new Map<string, number>() : leftOutOf(posts, range);
      for (const amplification of ['weighted', 'count'] as const) {
        const r = { ...base, amplification };
        const what = JSON.stringify(r);
        const fromRows = await s.rows.topics(r);
        assertSame(await s.rolled.topics(r), fromRows, `${what}: rollups and posts`);
        for (const query of [s.rolled, s.rows]) {
          const summaries = await query.topics(r);
          assert.deepEqual(new Map(summaries.filter((x) => x.leftOut > 0).map((x) => [x.topic, x.leftOut])), leftOut, `${what}: left out`);
          assert.deepEqual(new Map(summaries.filter((x) => x.count > 0).map((x) => [x.topic, x.count])), new Map([...counts].map(([k, v]) => [k, v.n])), what);
          if (amplification === 'count')
            for (const x of summaries.filter((y) => y.count > 0))
              assert.ok(Math.abs(x.meanScore - (counts.get(x.topic)?.mean ?? NaN)) < 1e-9, `${what}: ${x.topic} mean`);
        }
        for (const bucketSeconds of [3600, 7200, 1800])
          assertSame(await s.rolled.buckets({ ...r, bucketSeconds }), await s.rows.buckets({ ...r, bucketSeconds }), `${what} buckets ${bucketSeconds}`);
      }
      if (!include && range.langs === undefined && range.from === undefined) {
        const summaries = await s.rolled.topics(base);
        assert.equal(summaries.at(-1)?.topic, 'spanish-only', 'a topic of posts left out alone comes last');
        assert.equal(summaries.at(-1)?.count, 0);
      }
    }
});
