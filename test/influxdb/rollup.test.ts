/**
 * #13.7 InfluxDB rollups against a real InfluxDB 1.8: the sink marks what it writes, the roller rolls
 * it up, and InfluxQuery answers through the rollups exactly what it answers from the posts alone
 * (buckets of 1 h, 6 h and 1 day, summaries, both modes, one language and all, ragged ends); marks
 * newer than a roll are read from the posts at once and rolled again; windows before the since
 * point are read from the posts; close rolls what is pending; a mark that cannot be written fails
 * or retries the batch.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LABELS, type ScoredPost } from '../../src/contract/index.js';
import type { AmplificationMode } from '../../src/query/amplification.js';
import type { SentimentBucket, TimeRange, TopicSummary } from '../../src/query/sentiment-query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { encodePosts } from '../../src/sinks/influxdb/line-protocol.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { fluxCsvRows } from '../../src/sinks/influxdb/flux-csv.js';
import { encodeSince, sinceFor } from '../../src/sinks/influxdb/rollup.js';
import { MemoryDeadLetters } from '../helpers.js';
import { scoredPost, testDatabase, type TestDatabase } from './server.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
const TOPICS = ['markets', 'climate', 'sport, "live"'];

/**
 * 2,000 posts over about 3 days (one every 2 min 17 s), 3 topics (every 5th in two), en/es, 40
 * authors; every 4th a retweet of a post 4 or 16 before it (same hour or not), every 9th a quote.
 */
function corpus(n = 2000, start = T0, lowBase = 0): ScoredPost[] {
  const posts: ScoredPost[] = [];
  for (let i = 0; i < n; i++) {
    const topics = i % 5 === 0 ? [TOPICS[i % 3] as string, TOPICS[(i + 1) % 3] as string] : [TOPICS[i % 3] as string];
    const post = scoredPost(start + i * 137_000, lowBase + (i % 4096), { topics, lang: i % 3 === 0 ? 'es' : 'en', label: LABELS[(i * 7) % 3] });
    const authored: ScoredPost = i % 11 === 0 ? post : { ...post, authorId: String(1000 + (i % 40)) };
    const retweeted = i % 8 === 4 ? posts[i - 4] : i % 8 === 0 && i > 0 ? posts[Math.max(0, i - 16)] : undefined;
    if (i % 4 === 0 && i % 3 !== 0) posts.push({ ...authored, refKind: 'retweeted', refId: retweeted?.id ?? String(900000 + i) });
    else if (i % 9 === 0) posts.push({ ...authored, refKind: 'quoted', refId: posts[i - 1]?.id ?? '1' });
    else posts.push(authored);
  }
  return posts;
}

/** Line protocol straight to the server: no marks, as a writer behind the roller's back. */
async function rawWrite(db: TestDatabase, text: string): Promise<void> {
  const res = await db.write(text, 'ns');
  assert.equal(res.status, 204, await res.text());
}

/** The same post with another score: the same series and time, so it overwrites the stored point. */
const rescored = (p: ScoredPost, score: number): string => encodePosts([{ ...p, score }], 'post_sentiment').text;

async function series(db: TestDatabase, q: string): Promise<unknown[][]> {
  const r = await db.influxql(q, 'ms');
  return r.results[0]?.series?.flatMap((s) => s.values) ?? [];
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
const closeInterval = (a: readonly [number, number] | null, b: readonly [number, number] | null): boolean =>
  a === null || b === null ? a === b : close(a[0], b[0]) && close(a[1], b[1]);

function sameAggregate(a: SentimentBucket | TopicSummary, e: SentimentBucket | TopicSummary, what: string): void {
  assert.ok(close(a.meanScore, e.meanScore), `${what}: mean ${a.meanScore} vs ${e.meanScore}`);
  assert.ok(close(a.scoreStdDev, e.scoreStdDev), `${what}: stddev ${a.scoreStdDev} vs ${e.scoreStdDev}`);
  assert.ok(closeInterval(a.meanScoreCi95, e.meanScoreCi95), `${what}: mean interval`);
  for (const l of LABELS) {
    assert.ok(close(a.shares[l], e.shares[l]), `${what}: ${l} share ${a.shares[l]} vs ${e.shares[l]}`);
    assert.ok(closeInterval(a.sharesCi95[l], e.sharesCi95[l]), `${what}: ${l} share interval`);
  }
  assert.equal(a.tooFewPosts, e.tooFewPosts, `${what}: tooFewPosts`);
}

function sameBuckets(actual: SentimentBucket[], expected: SentimentBucket[], what: string): void {
  assert.deepEqual(
    actual.map((b) => [b.topic, b.bucketStart, b.count, b.opinions]),
    expected.map((b) => [b.topic, b.bucketStart, b.count, b.opinions]),
    what,
  );
  actual.forEach((b, i) => sameAggregate(b, expected[i] as SentimentBucket, `${what} ${b.topic} @ ${b.bucketStart}`));
}

function sameTopics(actual: TopicSummary[], expected: TopicSummary[], what: string): void {
  assert.deepEqual(
    actual.map((s) => [s.topic, s.count, s.opinions, s.firstAt, s.lastAt]),
    expected.map((s) => [s.topic, s.count, s.opinions, s.firstAt, s.lastAt]),
    what,
  );
  actual.forEach((s, i) => sameAggregate(s, expected[i] as TopicSummary, `${what} ${s.topic}`));
}

/** A database whose rollups answer from `since` on, a rolled and a posts-only query on it. */
async function setup(t: TestContext, since: number | undefined, overrides: Parameters<TestDatabase['config']>[0] = {}) {
  const db = await testDatabase(t);
  if (!db) return undefined;
  t.after(() => db.drop());
  if (since !== undefined) await rawWrite(db, encodeSince(since, Date.now(), { measurement: 'post_sentiment' }));
  const config = db.config({ rollupCloseMs: 60_000, ...overrides });
  const rolled = new InfluxQuery(config);
  const rows = new InfluxQuery(config, { rollups: false });
  t.after(async () => {
    await rolled.close();
    await rows.close();
  });
  return { db, config, rolled, rows };
}

const MODES: AmplificationMode[] = ['weighted', 'count'];

/** Every query the dashboard makes, through rollups and from the posts, compared. */
async function assertSameAnswers(rolled: InfluxQuery, rows: InfluxQuery, ranges: readonly TimeRange[]): Promise<void> {
  for (const base of ranges)
    for (const amplification of MODES)
      for (const langs of [undefined, ['es']]) {
        const range: TimeRange = { ...base, amplification, ...(langs ? { langs } : {}) };
        const what = JSON.stringify(range);
        for (const bucketSeconds of [3600, 21_600, 86_400])
          sameBuckets(await rolled.buckets({ ...range, bucketSeconds }), await rows.buckets({ ...range, bucketSeconds }), `${what} ${bucketSeconds} s`);
        sameTopics(await rolled.topics(range), await rows.topics(range), `${what} topics`);
      }
}

/** The rolled_through of a (topic, window)'s '*' count rollup, and its mark's touched. */
async function rollState(db: TestDatabase, topic: string, window: number): Promise<{ rolledThrough?: number; touched?: number; n?: number }> {
  const [roll] = await series(
    db,
    `SELECT "rolled_through", "n" FROM "post_sentiment_rollup" WHERE "topic" = '${topic}' AND "lang" = '*' AND "mode" = 'count' AND time = ${window}ms`,
  );
  const [mark] = await series(db, `SELECT "touched" FROM "post_sentiment_rollup_dirty" WHERE "topic" = '${topic}' AND time = ${window}ms`);
  return { rolledThrough: roll?.[1] as number | undefined, n: roll?.[2] as number | undefined, touched: mark?.[1] as number | undefined };
}

const RAGGED: TimeRange = { from: new Date(T0 + 90 * 60_000 + 17_000), to: new Date(T0 + 2 * 86_400_000 + 5 * HOUR + 33 * 60_000) };

test('close rolls every written window; the rolled answers equal the posts-only answers and come from the rollups', async (t) => {
  const s = await setup(t, T0 - 86_400_000);
  if (!s) return;
  const posts = corpus();
  const sink = buildInfluxSink(s.config, new MemoryDeadLetters());
  await sink.write(posts);
  await sink.close();

  // One '*' point per (topic, hour) written and mode, as many as marks, each at least as new as its mark.
  const pairs = new Set(posts.flatMap((p) => p.topics.map((topic) => `${Math.floor(Date.parse(p.createdAt) / HOUR)}/${topic}`)));
  const marks = await series(s.db, 'SELECT count("touched") FROM "post_sentiment_rollup_dirty"');
  assert.equal(marks[0]?.[1], pairs.size);
  for (const mode of MODES) {
    const [count] = await series(s.db, `SELECT count("rolled_through") FROM "post_sentiment_rollup" WHERE "lang" = '*' AND "mode" = '${mode}'`);
    assert.equal(count?.[1], pairs.size, `${mode} '*' rollups`);
  }
  const [esRolls] = await series(s.db, `SELECT count("n") FROM "post_sentiment_rollup" WHERE "lang" = 'es' AND "mode" = 'count'`);
  assert.ok(Number(esRolls?.[1]) > 0 && Number(esRolls?.[1]) < pairs.size, 'a language has rollups only where it has posts');
  const state = await rollState(s.db, 'markets', T0 + 5 * HOUR);
  assert.ok(state.rolledThrough !== undefined && state.touched !== undefined && state.rolledThrough >= state.touched);

  await assertSameAnswers(s.rolled, s.rows, [{}, RAGGED, { ...RAGGED, topics: ['sport, "live"', 'climate'] }]);
  // An author cap and two languages at once are not served by rollups: still the same answers.
  sameTopics(await s.rolled.topics({ authorCap: 2 }), await s.rows.topics({ authorCap: 2 }), 'author cap');
  sameBuckets(
    await s.rolled.buckets({ langs: ['en', 'es'], bucketSeconds: 3600 }),
    await s.rows.buckets({ langs: ['en', 'es'], bucketSeconds: 3600 }),
    'two languages',
  );
  sameTopics(await s.rolled.topics({ order: 'newest', limit: 2 }), await s.rows.topics({ order: 'newest', limit: 2 }), 'order and limit');

  // Behind the roller's back (no mark), a post's score changes: the posts-only answer moves, the
  // rolled one does not (its window is answered by the rollup) — except in a ragged end, read from the posts.
  const inWindow = posts.find((p) => Date.parse(p.createdAt) >= T0 + 10 * HOUR && p.topics.length === 1 && p.refKind === undefined) as ScoredPost;
  const before = await s.rolled.topics({ topics: inWindow.topics });
  await rawWrite(s.db, rescored(inWindow, inWindow.score > 0 ? -0.99 : 0.99));
  sameTopics(await s.rolled.topics({ topics: inWindow.topics }), before, 'the rollup answers, not the changed post');
  const changed = await s.rows.topics({ topics: inWindow.topics });
  assert.ok(!close(changed[0]?.meanScore ?? 0, before[0]?.meanScore ?? 0), 'the posts-only answer sees the changed post');
  const at = Date.parse(inWindow.createdAt);
  const ragged = { topics: inWindow.topics, from: new Date(at - 1), to: new Date(T0 + 3 * 86_400_000) };
  sameTopics(await s.rolled.topics(ragged), await s.rows.topics(ragged), 'a ragged end is read from the posts');
});

test('a late write into a rolled window is read from the posts at once, then rolled again by the ticking roller', async (t) => {
  const s = await setup(t, T0 - 86_400_000, { rollupIntervalMs: 100, rollupQuietMs: 300 });
  if (!s) return;
  const posts = corpus(600);
  const first = buildInfluxSink(s.config, new MemoryDeadLetters());
  await first.write(posts);
  await first.close();
  const window = T0 + 3 * HOUR;
  const rolled = await rollState(s.db, 'markets', window);
  assert.ok(rolled.rolledThrough !== undefined && rolled.n !== undefined);

  const sink = buildInfluxSink(s.config, new MemoryDeadLetters());
  t.after(() => sink.close());
  const late = [0, 1, 2, 3, 4].map((i) => scoredPost(window + 1_000 + i * 7_000, 3000 + i, { topics: ['markets'], lang: 'es', label: 'positive' }));
  // Two of them retweet a post already rolled in that window: one opinion with it in weighted mode.
  const original = posts.find(
    (p) => p.topics.includes('markets') && p.refKind === undefined && Math.floor(Date.parse(p.createdAt) / HOUR) * HOUR === window,
  ) as ScoredPost;
  late[3] = { ...(late[3] as ScoredPost), refKind: 'retweeted', refId: original.id };
  late[4] = { ...(late[4] as ScoredPost), refKind: 'retweeted', refId: original.id };
  await sink.write(late);
  // Marked, not rolled yet: the window is read from the posts.
  const marked = await rollState(s.db, 'markets', window);
  assert.ok((marked.touched ?? 0) > (marked.rolledThrough ?? Infinity), 'the mark is newer than the roll');
  await assertSameAnswers(s.rolled, s.rows, [{ topics: ['markets'] }]);
  const all = await s.rolled.topics({ topics: ['markets'], amplification: 'count' });
  assert.equal(all[0]?.count, posts.filter((p) => p.topics.includes('markets')).length + 5, 'the late posts are counted');

  const deadline = Date.now() + 20_000;
  let again = marked;
  while (Date.now() < deadline) {
    again = await rollState(s.db, 'markets', window);
    if ((again.rolledThrough ?? 0) >= (again.touched ?? Infinity)) break;
    await sleep(100);
  }
  assert.ok((again.rolledThrough ?? 0) >= (again.touched ?? Infinity), 'rolled again without closing the sink');
  assert.equal(again.n, (rolled.n ?? 0) + 5);
  await assertSameAnswers(s.rolled, s.rows, [{ topics: ['markets'] }, RAGGED]);
});

test('windows before the since point are read from the posts; the roller writes a since point only where none is', async (t) => {
  const since = T0 + 86_400_000;
  const s = await setup(t, since);
  if (!s) return;
  const posts = corpus(1500);
  const sink = buildInfluxSink(s.config, new MemoryDeadLetters());
  await sink.write(posts);
  await sink.close();
  assert.equal((await series(s.db, 'SELECT count("written_at") FROM "post_sentiment_rollup_since"'))[0]?.[1], 1, 'the existing since point stands');

  const pick = (after: boolean): ScoredPost =>
    posts.find(
      (p) => Date.parse(p.createdAt) >= since + 2 * HOUR === after && Date.parse(p.createdAt) > T0 + 2 * HOUR && p.topics.length === 1 && !p.refKind,
    ) as ScoredPost;
  const before = pick(false);
  const after = pick(true);
  assert.ok(before && after);
  const topicOf = (summaries: TopicSummary[], topic: string): TopicSummary => summaries.find((x) => x.topic === topic) as TopicSummary;
  // Changed behind the roller's back: a post before since shows at once (read from the posts)...
  const earlier = await s.rolled.topics();
  await rawWrite(s.db, rescored(before, before.score > 0 ? -0.99 : 0.99));
  const seen = await s.rolled.topics();
  sameTopics(seen, await s.rows.topics(), 'before since: the posts-only answer');
  assert.ok(!close(topicOf(seen, before.topics[0] as string).meanScore, topicOf(earlier, before.topics[0] as string).meanScore), 'the change is seen');
  // ...one after since does not (its window is answered by the rollup).
  await rawWrite(s.db, rescored(after, after.score > 0 ? -0.99 : 0.99));
  sameTopics(await s.rolled.topics(), seen, 'after since: the rollup');
  assert.ok(!close(topicOf(await s.rows.topics(), after.topics[0] as string).meanScore, topicOf(seen, after.topics[0] as string).meanScore));
  await assertSameAnswers(s.rolled, s.rows, [{ to: new Date(since) }]);

  // A store without a since point: the first roller writes one after the windows a mark-less writer may still reach.
  const fresh = await setup(t, undefined);
  if (!fresh) return;
  const startedAt = Date.now();
  const writer = buildInfluxSink(fresh.config, new MemoryDeadLetters());
  await writer.write(posts.slice(0, 50));
  await writer.close();
  const points = await series(fresh.db, 'SELECT "written_at" FROM "post_sentiment_rollup_since"');
  assert.equal(points.length, 1);
  const written = points[0]?.[0] as number;
  assert.ok(written >= sinceFor(startedAt) && written <= sinceFor(Date.now()), `since ${new Date(written).toISOString()}`);
  assert.ok(written > Date.now() + 10 * 60_000, 'after the 10 minutes created_at may lead');
  // Every window of these posts is before it: the answers are the posts'.
  sameTopics(await fresh.rolled.topics(), await fresh.rows.topics(), 'all before since');
});

/** A proxy to the real server that answers a write of marks itself `status`, `times` times. */
async function refusingMarks(t: TestContext, db: TestDatabase, status: number, times: number): Promise<{ url: string; refused: () => number }> {
  const target = new URL(db.url);
  let refused = 0;
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.startsWith('/api/v2/write') && body.toString('utf8').startsWith('post_sentiment_rollup_dirty') && refused < times) {
        refused++;
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"refused by the test proxy"}');
        return;
      }
      const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, refused: () => refused };
}

test('a mark write that fails is retried before the batch resolves; a refused one fails the batch', async (t) => {
  const s = await setup(t, T0 - 86_400_000);
  if (!s) return;
  const flaky = await refusingMarks(t, s.db, 503, 2);
  const sink = buildInfluxSink({ ...s.config, url: flaky.url }, new MemoryDeadLetters());
  await sink.write(corpus(20));
  assert.equal(flaky.refused(), 2);
  const [marks] = await series(s.db, 'SELECT count("touched") FROM "post_sentiment_rollup_dirty"');
  assert.ok(Number(marks?.[1]) > 0, 'the marks were written before write() resolved');
  await sink.close();

  const refusing = await refusingMarks(t, s.db, 400, Infinity);
  const dead = new MemoryDeadLetters();
  const broken = buildInfluxSink({ ...s.config, url: refusing.url }, dead);
  await assert.rejects(broken.write(corpus(10, T0 + 20 * 86_400_000, 100)), (e: Error & { code?: string }) => e.code === 'CP_INFLUXDB_ROLLUP_MARK');
  await broken.close();
  assert.equal(dead.letters.length, 0);
});

test('flux-csv: tables with their own headers, quoted fields (commas, quotes, newlines), CRLF, and an in-band error throws', () => {
  const text = [
    '#datatype,string,long,string,double',
    '#group,false,false,true,false',
    '#default,_result,,,',
    ',result,table,topic,_value',
    ',,0,"sport, ""live""",1.5',
    ',,1,"two\nlines",2',
    '',
    '#datatype,string,long,string',
    '#group,false,false,true',
    '#default,_result,,',
    ',result,table,lang',
    ',,2,es\r',
    '',
  ].join('\n');
  assert.deepEqual(fluxCsvRows(text), [
    { '': '', result: '', table: '0', topic: 'sport, "live"', _value: '1.5' },
    { '': '', result: '', table: '1', topic: 'two\nlines', _value: '2' },
    { '': '', result: '', table: '2', lang: 'es' },
  ]);
  assert.throws(
    () => fluxCsvRows('#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,"type error: bad",\n'),
    (e: Error & { code?: string }) => e.code === 'CP_STORE_UNAVAILABLE' && /type error: bad/.test(e.message),
  );
});
