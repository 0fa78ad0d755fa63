/** Pure parts of the InfluxDB sink: point times, tag encoding, retry decisions, backoff, Retry-After. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { influxdbSection } from '../../src/config/sections/influxdb.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { MemoryDeadLetters } from '../helpers.js';
import { decodeTagValue, encodePosts, encodeTagValue, pointTime, storedTagValue } from '../../src/sinks/influxdb/line-protocol.js';
import { backoffDelay, decide } from '../../src/sinks/influxdb/retry.js';
import { parseRetryAfter } from '../../src/sinks/influxdb/transport.js';

const EPOCH = 1_288_834_974_657n;
const snowflake = (ms: number, low: number): string => (((BigInt(ms) - EPOCH) << 22n) | BigInt(low)).toString();

test('snowflakes of one millisecond get distinct (slot, time): every 13th of the 2^22, and the slot boundaries', () => {
  const ms = Date.UTC(2026, 0, 1, 0, 0, 0, 123);
  const createdAt = ms - 123; // X's created_at: the second, .000
  const seen = new Set<string>();
  const lows: number[] = [];
  for (let low = 0; low < 1 << 22; low += 13) lows.push(low);
  for (const b of [1_000_000, 2_000_000, 3_000_000, 4_000_000]) lows.push(b - 1, b, b + 1);
  lows.push((1 << 22) - 1);
  for (const low of lows) {
    const t = pointTime(snowflake(ms, low), createdAt);
    seen.add(`${t.slot}:${t.ns}`);
    if (low % 65_536 === 0) assert.equal(t.ns.slice(0, 13), String(ms));
  }
  assert.equal(seen.size, new Set(lows).size);
});

test("point time is a pure function of the post (replays overwrite) and stays in created_at's second", () => {
  const ms = Date.UTC(2026, 5, 1, 12, 30, 15, 999);
  const a = pointTime(snowflake(ms, 4_000_123), ms - 999);
  assert.deepEqual(a, pointTime(snowflake(ms, 4_000_123), ms - 999));
  assert.deepEqual(a, { ns: `${ms}000123`, slot: 4 });
  // Not a snowflake of that second: created_at's ms, slots 5..9.
  const b = pointTime('1234567', ms);
  assert.deepEqual(b, { ns: `${ms}234567`, slot: 6 });
});

test('tag values: percent step only where line protocol cannot carry the character', () => {
  for (const v of ['markets', 'a b', 'a,b=c', '', '%', '\\', 'a\\', '\n', 'x\r\ny', '😀', 'a%20b']) {
    assert.equal(decodeTagValue(storedTagValue(v)), v);
  }
  assert.equal(storedTagValue('plain topic'), 'plain topic');
  assert.equal(encodeTagValue('a b,c=d'), 'a\\ b\\,c\\=d');
  assert.equal(encodeTagValue('a\\\nb%'), 'a%5C%0Ab%25');
});

test('retry decisions', () => {
  const http = (status: number, retryAfterMs?: number) => decide({ kind: 'http', status, message: `HTTP ${status}`, retryAfterMs });
  assert.equal(decide({ kind: 'network', code: 'ECONNREFUSED', message: 'x' }).action, 'retry');
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(http(s).action, 'retry', String(s));
  for (const s of [400, 413, 422]) assert.equal(http(s).action, 'split', String(s));
  for (const s of [401, 403, 404, 405]) assert.equal(http(s).action, 'dead-letter', String(s));
  assert.deepEqual(http(503, 2000), { action: 'retry', reason: 'HTTP 503', retryAfterMs: 2000 });
});

test('Retry-After is seconds (or an HTTP date), not milliseconds', () => {
  assert.equal(parseRetryAfter('1'), 1000);
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter(['2']), 2000);
  const now = Date.UTC(2026, 0, 1);
  assert.equal(parseRetryAfter(new Date(now + 30_000).toUTCString(), now), 30_000);
  assert.equal(parseRetryAfter(undefined), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('backoff: exponential with jitter, capped; Retry-After replaces it (capped, +≤10 %)', () => {
  const o = { initialMs: 100, maxDelayMs: 5000, retryAfterMaxMs: 60_000 };
  assert.equal(
    backoffDelay(1, undefined, o, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, undefined, o, () => 0.999_999),
    100,
  );
  assert.equal(
    backoffDelay(4, undefined, o, () => 0),
    400,
  );
  assert.equal(
    backoffDelay(40, undefined, o, () => 0),
    2500,
  );
  assert.equal(
    backoffDelay(1, 3000, o, () => 0),
    3000,
  );
  assert.equal(
    backoffDelay(1, 3000, o, () => 1),
    3300,
  );
  assert.equal(
    backoffDelay(1, 3_600_000, o, () => 0),
    60_000,
  );
});

test('a post that cannot become a point is reported, never skipped silently', () => {
  const post = {
    id: '1790000000000000001',
    createdAt: '2026-11-26T09:00:00.000Z',
    topics: [] as string[],
    lang: 'en',
    label: 'neutral' as const,
    probs: { neg: 0, neu: 1, pos: 0 },
    score: 0,
    model: 'm',
    flags: [],
    ingestedAt: 0,
    analyzedAt: 0,
  };
  const encoded = encodePosts(
    [post, { ...post, topics: ['a', 'a', 'b'] }, { ...post, createdAt: 'yesterday', topics: ['a'] }, { ...post, topics: ['a'], score: Number.NaN }],
    'm',
  );
  assert.equal(encoded.points, 2);
  assert.deepEqual(
    encoded.rejected.map((r) => r.index),
    [0, 2, 3],
  );
});

test('closing the sink while the server is unreachable rejects the pending writes (not durable), it does not hang', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve())); // nothing listens there now
  const sink = buildInfluxSink(
    influxdbSection.parse({ url: `http://127.0.0.1:${port}`, maxBufferPoints: 1, maxInFlight: 1, retryInitialMs: 20 }),
    new MemoryDeadLetters(),
  );
  const post = {
    id: '1790000000000000001',
    createdAt: '2026-11-26T09:00:00.000Z',
    topics: ['a'],
    lang: 'en',
    label: 'neutral' as const,
    probs: { neg: 0, neu: 1, pos: 0 },
    score: 0,
    model: 'm',
    flags: [],
    ingestedAt: 0,
    analyzedAt: 0,
  };
  const first = sink.write([post]);
  const second = sink.write([{ ...post, id: '1790000000000000002' }]); // waits for buffer room
  await new Promise((r) => setTimeout(r, 200));
  await sink.close();
  await assert.rejects(first, { code: 'CP_INFLUXDB_SINK_CLOSED' });
  await assert.rejects(second, { code: 'CP_INFLUXDB_SINK_CLOSED' });
});
