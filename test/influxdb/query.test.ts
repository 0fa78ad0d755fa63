/**
 * InfluxQuery (Flux) answers exactly what the embedded store's SqliteQuery answers for the same
 * posts: buckets, per-topic summaries (with their intervals and too-few-posts marks), integrity,
 * with time ranges and topic filters.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from '@influxdata/influxdb-client';
import { influxdbSection } from '../../src/config/sections/influxdb.js';
import { join } from 'node:path';
import { test } from 'node:test';
import { LABELS, type ScoredPost } from '../../src/contract/index.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import type { SentimentBucket, TopicSummary } from '../../src/query/sentiment-query.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { sqliteCoverageWriter } from '../../src/sinks/sqlite/coverage.js';
import { influxCoverageWriter } from '../../src/sinks/influxdb/coverage.js';
import { influxShiftWriter } from '../../src/sinks/influxdb/shifts.js';
import { sqliteShiftWriter } from '../../src/sinks/sqlite/shifts.js';
import type { ShiftEvent } from '../../src/query/shift-event.js';
import { MemoryDeadLetters, ROOT, tempDir } from '../helpers.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
import { scoredPost, testDatabase } from './server.js';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const TOPICS = ['markets', 'climate', 'sport, "live"', 'ai'];

/**
 * Posts of 40 authors (every 11th without one); every 4th a retweet (of a post a few before it, in
 * or out of its bucket and topic, or of a post not stored), every 9th a quote (#13.3).
 */
function corpus(): ScoredPost[] {
  const posts: ScoredPost[] = [];
  for (let i = 0; i < 3000; i++) {
    const topics = i % 5 === 0 ? [TOPICS[i % 4] as string, TOPICS[(i + 1) % 4] as string] : [TOPICS[i % 4] as string];
    const post = scoredPost(T0 + i * 397, i % 4096, { topics, lang: i % 3 === 0 ? 'es' : 'en', label: LABELS[(i * 7) % 3] });
    const amplified: ScoredPost = i % 11 === 0 ? post : { ...post, authorId: String(1000 + (i % 40)) };
    const retweeted = i % 8 === 4 ? posts[i - 4] : i % 8 === 0 && i > 0 ? posts[i - 16 > 0 ? i - 16 : 0] : undefined;
    if (i % 4 === 0 && i % 3 !== 0) posts.push({ ...amplified, refKind: 'retweeted', refId: retweeted?.id ?? String(900000 + i) });
    else if (i % 9 === 0) posts.push({ ...amplified, refKind: 'quoted', refId: posts[i - 1]?.id ?? '1' });
    else posts.push(amplified);
  }
  return posts;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;
const closeInterval = (a: readonly [number, number] | null, b: readonly [number, number] | null): boolean =>
  a === null || b === null ? a === b : close(a[0], b[0]) && close(a[1], b[1]);

/** The uncertainty fields (#13): the same from both stores, to rounding. */
function sameUncertainty(a: SentimentBucket | TopicSummary, e: SentimentBucket | TopicSummary, what: string): void {
  assert.ok(close(a.scoreStdDev, e.scoreStdDev), `${what}: stddev ${a.scoreStdDev} vs ${e.scoreStdDev}`);
  assert.ok(closeInterval(a.meanScoreCi95, e.meanScoreCi95), `${what}: mean interval ${String(a.meanScoreCi95)} vs ${String(e.meanScoreCi95)}`);
  for (const l of LABELS) assert.ok(closeInterval(a.sharesCi95[l], e.sharesCi95[l]), `${what}: ${l} share interval`);
  assert.equal(a.tooFewPosts, e.tooFewPosts, `${what}: tooFewPosts`);
}

function sameBuckets(actual: SentimentBucket[], expected: SentimentBucket[]): void {
  assert.deepEqual(
    actual.map((b) => [b.topic, b.bucketStart, b.count, b.opinions]),
    expected.map((b) => [b.topic, b.bucketStart, b.count, b.opinions]),
  );
  actual.forEach((b, i) => {
    const e = expected[i] as SentimentBucket;
    assert.ok(close(b.meanScore, e.meanScore), `mean ${b.meanScore} vs ${e.meanScore}`);
    for (const l of LABELS) assert.ok(close(b.shares[l], e.shares[l]));
    sameUncertainty(b, e, `${b.topic} @ ${b.bucketStart}`);
  });
}

function sameTopics(actual: TopicSummary[], expected: TopicSummary[]): void {
  assert.deepEqual(
    actual.map((s) => [s.topic, s.count, s.opinions, s.firstAt, s.lastAt]),
    expected.map((s) => [s.topic, s.count, s.opinions, s.firstAt, s.lastAt]),
  );
  actual.forEach((s, i) => {
    const e = expected[i] as TopicSummary;
    assert.ok(close(s.meanScore, e.meanScore));
    for (const l of LABELS) assert.ok(close(s.shares[l], e.shares[l]));
    sameUncertainty(s, e, s.topic);
  });
}

test('InfluxQuery matches SqliteQuery on the same posts', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const posts = corpus();
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config({ batchSize: 1000 }), dead);
  await sink.write(posts);
  await sink.close();
  const path = join(tempDir('influx-query'), 'store.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();

  const influx = new InfluxQuery(db.config());
  const sqlite = new SqliteQuery(path);
  t.after(async () => {
    await influx.close();
    await sqlite.close();
  });

  for (const bucketSeconds of [60, 300]) sameBuckets(await influx.buckets({ bucketSeconds }), await sqlite.buckets({ bucketSeconds }));
  const range = { from: new Date(T0 + 120_000), to: new Date(T0 + 600_000), topics: ['climate', 'sport, "live"'] };
  sameBuckets(await influx.buckets({ ...range, bucketSeconds: 60 }), await sqlite.buckets({ ...range, bucketSeconds: 60 }));
  sameTopics(await influx.topics(), await sqlite.topics());
  sameTopics(await influx.topics(range), await sqlite.topics(range));
  // #13.3: amplification modes, the author cap and the language filter, alike in both stores.
  const weighted = await sqlite.buckets({ bucketSeconds: 300 });
  assert.ok(
    weighted.some((b) => b.opinions < b.count),
    'retweets of posts in the same bucket join their original',
  );
  for (const variant of [
    { amplification: 'count' as const },
    { authorCap: 2 },
    { amplification: 'count' as const, authorCap: 1 },
    { langs: ['es'] },
    { ...range, authorCap: 3, langs: ['en', 'es'] },
  ]) {
    sameBuckets(await influx.buckets({ ...variant, bucketSeconds: 300 }), await sqlite.buckets({ ...variant, bucketSeconds: 300 }));
    sameTopics(await influx.topics(variant), await sqlite.topics(variant));
  }
  const counted = await sqlite.buckets({ amplification: 'count', bucketSeconds: 300 });
  assert.ok(counted.every((b) => b.opinions === b.count));
  const total = (summaries: TopicSummary[]): number => summaries.reduce((sum, s) => sum + s.count, 0);
  assert.ok(total(await sqlite.topics({ authorCap: 1 })) < total(await sqlite.topics()), 'the cap drops an author’s extra posts');
  // A minimum that some buckets meet and some do not: both stores mark the same ones.
  const counts = (await sqlite.buckets({ bucketSeconds: 60 })).map((b) => b.count).sort((x, y) => x - y);
  const median = counts[Math.floor(counts.length / 2)] as number;
  const strict = await sqlite.buckets({ bucketSeconds: 60, minPosts: median });
  assert.ok(strict.some((b) => b.tooFewPosts) && strict.some((b) => !b.tooFewPosts), 'the minimum splits the buckets');
  sameBuckets(await influx.buckets({ bucketSeconds: 60, minPosts: median }), strict);

  // #13: `crowdpulse query` prints the same buckets, intervals included, from either store.
  const cli = async (args: string[]): Promise<SentimentBucket[]> => {
    const { stdout } = await exec(
      process.execPath,
      [
        join(ROOT, 'bin/crowdpulse.js'),
        'query',
        '--from',
        new Date(T0).toISOString(),
        '--to',
        new Date(T0 + 1_200_000).toISOString(),
        '--bucket',
        '2m',
        '--format',
        'json',
        ...args,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...db.env(), CROWDPULSE_LOG_LEVEL: 'warn' },
        maxBuffer: 16 << 20,
      },
    );
    return (JSON.parse(stdout) as { buckets: SentimentBucket[] }).buckets;
  };
  const fromInflux = await cli(['--sink', 'influxdb']);
  assert.ok(fromInflux.length >= 40);
  sameBuckets(fromInflux, await cli(['--sink', 'sqlite', '--db', path]));

  const [a, b] = [await influx.integrity(), await sqlite.integrity()];
  assert.deepEqual(a.rowsPerTopic, b.rowsPerTopic);
  assert.equal(a.distinctPosts, posts.length);
  assert.equal(a.distinctPosts, b.distinctPosts);
  assert.equal(a.duplicateKeys, 0);
});

test('empty string fields after a run of another value read back on their own points (InfluxDB 2.x storage read dropped the empty string)', async (t) => {
  // 2.7's Flux storage read built a string column with flux's StringBuilder, which lost an empty
  // value following a run of equal non-empty ones: every later value of the column moved up one
  // point. Here a quote, an original, a retweet of that original and another original, in one series
  // (one label, language, model, slot, topic): read shifted, the original became a retweet of itself
  // and the retweet an original of its own (4 opinions instead of 3), and the authors moved too.
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const at = (i: number, o: Partial<ScoredPost>): ScoredPost => scoredPost(T0 + i * 1000, 100 + i, { label: 'neutral', score: i / 10, ...o });
  const original = at(1, {});
  const posts: ScoredPost[] = [
    at(0, { authorId: '7', refKind: 'quoted', refId: '1' }),
    original,
    at(2, { authorId: '7', refKind: 'retweeted', refId: original.id }),
    at(3, { authorId: '8' }),
  ];
  const sink = buildInfluxSink(db.config(), new MemoryDeadLetters());
  await sink.write(posts);
  await sink.close();
  const path = join(tempDir('influx-empty-strings'), 'store.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();
  const influx = new InfluxQuery(db.config());
  const sqlite = new SqliteQuery(path);
  t.after(async () => {
    await influx.close();
    await sqlite.close();
  });
  const [summary] = await influx.topics();
  assert.equal(summary?.count, 4);
  assert.equal(summary?.opinions, 3, 'the retweet joins its original; the quote and the other original are opinions of their own');
  sameTopics(await influx.topics(), await sqlite.topics());
  for (const variant of [{ authorCap: 1 }, { amplification: 'count' as const, authorCap: 1 }])
    sameTopics(await influx.topics(variant), await sqlite.topics(variant));
  sameBuckets(await influx.buckets({ bucketSeconds: 2 }), await sqlite.buckets({ bucketSeconds: 2 }));
});

test('integrity() reports a (post, topic) stored twice (e.g. under two labels)', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const post = scoredPost(T0, 1, { label: 'positive' });
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config(), dead);
  await sink.write([post, scoredPost(T0, 2)]);
  await sink.write([{ ...post, label: 'negative' }]);
  await sink.close();
  const influx = new InfluxQuery(db.config());
  t.after(() => influx.close());
  const integrity = await influx.integrity();
  assert.equal(integrity.duplicateKeys, 1);
  assert.equal(integrity.distinctPosts, 2);
});

test('query errors carry Retry-After converted from seconds (the client library would read "1" as 1 ms)', async (t) => {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"error":"too many queries"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const query = new InfluxQuery(influxdbSection.parse({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  t.after(() => query.close());
  await assert.rejects(query.topics(), (e: unknown) => {
    assert.ok(e instanceof HttpError);
    assert.equal(e.statusCode, 429);
    assert.equal(e.retryAfter(), 1000);
    assert.match(e.message, /too many queries/);
    return true;
  });
});

test('#13.4 coverage events read back alike from InfluxDB and SQLite, with the state the range starts in', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const events = [
    { at: T0, state: 'connected' as const, detail: 'connected to the filtered stream' },
    { at: T0 + 30_000, state: 'connected' as const, detail: 'heartbeat' },
    { at: T0 + 45_000, state: 'disconnected' as const, detail: 'network: connection error: "aborted", \\ back' },
    { at: T0 + 45_000, state: 'paused' as const, detail: 'post budget ahead of its line' },
    { at: T0 + 80_000, state: 'connected' as const, detail: 'connected to the filtered stream' },
    { at: T0 + 200_000, state: 'stopped' as const, detail: 'ingest closed' },
  ];
  const path = join(tempDir('influx-coverage'), 'store.db');
  const sqliteWriter = sqliteCoverageWriter(path);
  await sqliteWriter.write(events);
  await sqliteWriter.close();
  const influxWriter = influxCoverageWriter(db.config());
  await influxWriter.write(events);
  await influxWriter.close();
  const influx = new InfluxQuery(db.config());
  const sqlite = new SqliteQuery(path);
  t.after(async () => {
    await influx.close();
    await sqlite.close();
  });
  for (const [from, to] of [
    [T0 - 1000, T0 + 300_000],
    [T0 + 50_000, T0 + 100_000],
    [T0 + 45_000, T0 + 46_000],
  ] as const) {
    const range = { from: new Date(from), to: new Date(to) };
    const [a, b] = [await influx.coverage(range), await sqlite.coverage(range)];
    assert.deepEqual(a, b, `${new Date(from).toISOString()} .. ${new Date(to).toISOString()}`);
  }
  const middle = await sqlite.coverage({ from: new Date(T0 + 50_000), to: new Date(T0 + 100_000) });
  assert.deepEqual(
    middle.map((e) => e.state),
    ['paused', 'connected'],
    'the range starts paused',
  );
});

test('#13.5 stored shifts read back alike from InfluxDB and SQLite; writing one again replaces it', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const side = (meanScore: number, n: number) => ({ n, meanScore, meanScoreCi95: [meanScore - 0.1, meanScore + 0.1] as const, postsPerMinute: n / 30 });
  const shift = (topic: string, minute: number, kind: 'mean' | 'volume', direction: 'up' | 'down'): ShiftEvent => ({
    topic,
    kind,
    direction,
    detectedAt: new Date(T0 + minute * 60_000).toISOString(),
    changeAt: new Date(T0 + (minute - 5) * 60_000).toISOString(),
    before: side(0.4, 300),
    after: side(direction === 'up' ? 0.7 : -0.1, 60),
    volumeChange: kind === 'volume' ? Infinity : 1.2,
    postIds: ['1900000000000000001', '1900000000000000002'],
  });
  const events = [
    shift('markets', 10, 'mean', 'down'),
    shift('sport, "live"', 10, 'volume', 'up'),
    shift('markets', 40, 'mean', 'up'),
    shift('ai', 70, 'mean', 'up'),
  ];
  const path = join(tempDir('influx-shifts'), 'store.db');
  for (const writer of [sqliteShiftWriter(path), influxShiftWriter(db.config())]) {
    await writer.write(events);
    await writer.write([events[0]!]);
    await writer.close();
  }
  const influx = new InfluxQuery(db.config());
  const sqlite = new SqliteQuery(path);
  t.after(async () => {
    await influx.close();
    await sqlite.close();
  });
  const all = { from: new Date(T0), to: new Date(T0 + 3600_000 * 2) };
  const [a, b] = [await influx.shifts(all), await sqlite.shifts(all)];
  assert.deepEqual(a, b);
  assert.equal(b.length, 4, 'the shift written twice is stored once');
  assert.equal(b.find((e) => e.kind === 'volume')?.volumeChange, Infinity);
  const some = { from: new Date(T0 + 20 * 60_000), to: new Date(T0 + 3600_000 * 2), topics: ['markets', 'sport, "live"'] };
  assert.deepEqual(await influx.shifts(some), await sqlite.shifts(some));
  assert.deepEqual(
    (await sqlite.shifts(some)).map((e) => [e.topic, e.direction]),
    [['markets', 'up']],
  );
});
