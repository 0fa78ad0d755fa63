/**
 * The InfluxDB sink against a real InfluxDB 1.8 or 2.7 (scripts/influxdb.sh; server.ts): point identity (distinct
 * posts never collapse, replays overwrite), refused points isolated and dead-lettered, refused
 * writes dead-lettered without retry loops, Retry-After honoured in seconds.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ScoredPost } from '../../src/contract/index.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { influxRetries } from '../../src/sinks/influxdb/metrics.js';
import { MemoryDeadLetters } from '../helpers.js';
import { IS_INFLUX_V2, scoredPost, testDatabase, type TestDatabase } from './server.js';

const SECOND = Date.UTC(2026, 10, 20, 12, 0, 0); // a .000 created_at, as X sends them

async function pointCount(db: TestDatabase, where = ''): Promise<number> {
  const r = await db.influxql(`SELECT count("post_id") FROM "post_sentiment" ${where}`);
  return Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

async function storedIds(db: TestDatabase): Promise<string[]> {
  const r = await db.influxql('SELECT "post_id", "topic" FROM "post_sentiment"');
  return (r.results[0]?.series?.[0]?.values ?? []).map((v) => `${String(v[1])}/${String(v[2])}`);
}

test('distinct posts in the same second and series are distinct points', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  // Same created_at (to the ms), same topic/label/lang/model. Low 22 bits chosen so that several
  // share (low22 mod 10^6): only the slot tag separates them.
  const lows = [0, 1, 2, 4095, 1_000_000, 1_000_001, 2_000_000, 3_000_000, 4_000_000, 4_194_303, 999_999, 1_999_999];
  const posts: ScoredPost[] = [];
  for (const ms of [SECOND, SECOND + 1, SECOND + 999]) {
    for (const low of lows) posts.push(scoredPost(ms, low, { createdAt: new Date(SECOND).toISOString(), label: 'neutral' }));
  }
  // Ids that are not snowflakes of this second (fallback scheme): same created_at.
  for (const id of ['1', '2', '999999', '1000001', '4999999']) posts.push({ ...scoredPost(SECOND, 0, { label: 'neutral' }), id });
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config(), dead);
  await sink.write(posts);
  await sink.close();
  assert.equal(dead.letters.length, 0);
  assert.equal(await pointCount(db), posts.length);
  assert.deepEqual((await storedIds(db)).sort(), posts.map((p) => `${p.id}/markets`).sort());
  // Every point lies within the post's created_at second.
  const times = await db.influxql('SELECT "post_id" FROM "post_sentiment"', 'u');
  for (const v of times.results[0]?.series?.[0]?.values ?? []) {
    assert.equal(Math.floor(Number(v[0]) / 1e6), SECOND / 1000);
  }
});

test('the server keeps one point per series and timestamp (why the schema needs unique times)', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const ts = `${SECOND}000000`;
  const body = `post_sentiment,topic=markets score=0.5,post_id="1" ${ts}\npost_sentiment,topic=markets score=-0.5,post_id="2" ${ts}`;
  const res = await db.write(body, 'ns');
  assert.equal(res.status, 204);
  assert.equal(await pointCount(db), 1);
});

test('replaying the same posts overwrites their points, whatever the batching', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const topics = [['markets'], ['markets', 'climate'], ['sport', 'climate', 'markets']];
  const posts = Array.from({ length: 1500 }, (_, i) =>
    scoredPost(SECOND + Math.floor(i / 7) * 3, i % 4096, { topics: topics[i % 3] as string[], lang: i % 5 === 0 ? 'de' : 'en' }),
  );
  const expected = posts.reduce((n, p) => n + p.topics.length, 0);
  const dead = new MemoryDeadLetters();
  const first = buildInfluxSink(db.config({ batchSize: 500 }), dead);
  await first.write(posts);
  await first.close();
  assert.equal(await pointCount(db), expected);
  // Replay: other batch sizes, other order, twice.
  const again = buildInfluxSink(db.config({ batchSize: 37, maxInFlight: 3 }), dead);
  await again.write([...posts].reverse());
  for (let i = 0; i < posts.length; i += 100) await again.write(posts.slice(i, i + 100));
  await again.close();
  assert.equal(dead.letters.length, 0);
  assert.equal(await pointCount(db), expected);
  const ids = await storedIds(db);
  assert.equal(new Set(ids).size, expected);
});

test('a point the server refuses is isolated by bisection and dead-lettered; the rest are stored', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  // A string "score" in a later shard (7-day shard groups) makes float scores there a field type conflict.
  const later = SECOND + 30 * 86_400_000;
  const conflict = await db.write(`post_sentiment,topic=other score="text" ${later}`, 'ms');
  assert.equal(conflict.status, 204);
  const good = Array.from({ length: 99 }, (_, i) => scoredPost(SECOND + i, i));
  const bad = scoredPost(later + 5, 77);
  const posts = [...good.slice(0, 40), bad, ...good.slice(40)];
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config(), dead);
  await sink.write(posts);
  await sink.close();
  assert.equal(dead.letters.length, 1);
  const letter = dead.letters[0];
  assert.equal(letter?.code, 'sink_rejected');
  assert.match(letter?.reason ?? '', /field type conflict/);
  assert.equal((JSON.parse(Buffer.from(letter?.original ?? []).toString()) as ScoredPost).id, bad.id);
  assert.equal(await pointCount(db, `WHERE time < ${later}000000`), 99);
});

test('a write the server refuses outright (missing database) is dead-lettered, not retried forever', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const posts = Array.from({ length: 20 }, (_, i) => scoredPost(SECOND + i, i));
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config({ bucket: db.missingBucket }), dead);
  await sink.write(posts);
  await sink.close();
  assert.equal(dead.letters.length, 20);
  // 1.8: 'database not found: "db_missing"'; 2.7: 'bucket "db_missing" not found'.
  const notFound = IS_INFLUX_V2 ? new RegExp(`bucket "${db.db}_missing" not found`) : /database not found/;
  for (const l of dead.letters) assert.match(l.reason, notFound);
});

test('a post whose series key InfluxDB cannot hold is dead-lettered before sending; its batch is stored', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const huge = 'x'.repeat(70_000);
  const posts = [scoredPost(SECOND, 1), scoredPost(SECOND, 2, { topics: ['markets', huge] }), scoredPost(SECOND, 3)];
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config(), dead);
  await sink.write(posts);
  await sink.close();
  assert.equal(dead.letters.length, 1);
  assert.match(dead.letters[0]?.reason ?? '', /series key of \d+ bytes exceeds/);
  assert.equal(await pointCount(db), 2);
});

test('429 with Retry-After: 1 waits about a second (seconds, not milliseconds), then the write lands', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  // A proxy in front of the real server that refuses the first write with 429 Retry-After: 1.
  const target = new URL(db.url);
  let writes = 0;
  const answeredAt: number[] = [];
  const proxy = createServer((req, res) => {
    if (req.url?.startsWith('/api/v2/write') && writes++ === 0) {
      req.resume();
      answeredAt.push(Date.now());
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"error":"slow down"}');
      return;
    }
    answeredAt.push(Date.now());
    const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const port = (proxy.address() as AddressInfo).port;
  const before = (await influxRetries.get()).values.find((v) => v.labels.reason === 'http_429')?.value ?? 0;
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config({ url: `http://127.0.0.1:${port}`, retryInitialMs: 10 }), dead);
  await sink.write(Array.from({ length: 10 }, (_, i) => scoredPost(SECOND + i, i)));
  await sink.close();
  // The refused write and its retry; after them the batch's rollup marks and the roller's writes (rollup.ts).
  assert.ok(writes >= 2, `${writes} write requests`);
  const waited = (answeredAt[1] ?? 0) - (answeredAt[0] ?? 0);
  assert.ok(waited >= 1000, `retried after ${waited} ms; Retry-After said 1 s`);
  assert.equal(await pointCount(db), 10);
  const after = (await influxRetries.get()).values.find((v) => v.labels.reason === 'http_429')?.value ?? 0;
  assert.equal(after - before, 1);
});
