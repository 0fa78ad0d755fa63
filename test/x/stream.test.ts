import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Post } from '../../src/contract/index.js';
import type { Batch } from '../../src/pipeline/component.js';
import type { XEmulator } from '../../src/emulator/server.js';
import { MALFORMED_LINE } from '../../src/emulator/stream-connection.js';
import { XStreamSource } from '../../src/sources/x-stream/x-stream-source.js';
import { ManualClock } from '../../src/x/clock.js';
import { registry } from '../../src/telemetry/metrics.js';
import { streamConnected } from '../../src/x/metrics.js';
import { createXClient } from '../../src/x/client.js';
import { CredentialError } from '../../src/x/credentials.js';
import { syncRules } from '../../src/x/rules.js';
import { parseRecorded } from '../../src/emulator/recorded-posts.js';
import { clientFor, MemoryDeadLetters, startEmulator, syntheticPosts, TOKEN, until } from './helpers.js';

interface Running {
  emu: XEmulator;
  clock: ManualClock;
  source: XStreamSource;
  posts: Post[];
  dead: MemoryDeadLetters;
  stop: () => Promise<void>;
  done: Promise<unknown>;
}

const RULES = [
  { value: 'bitcoin', tag: 'crypto' },
  { value: '#ai OR "machine learning"', tag: 'ai' },
  { value: 'lovely -rain', tag: 'mood' },
];

let running: Running | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(
  opts: { token?: string; emu?: Parameters<typeof startEmulator>[0]; keepAliveTimeoutMs?: number; rules?: boolean; batchSize?: number } = {},
): Promise<Running> {
  const clock = new ManualClock();
  const emu = await startEmulator({ clock, ...opts.emu });
  if (opts.rules !== false) {
    const synced = await syncRules(clientFor(emu), RULES);
    assert.ok(synced.ok);
  }
  const dead = new MemoryDeadLetters();
  const source = new XStreamSource({
    client: clientFor(emu, opts.token ?? TOKEN),
    clock,
    deadLetters: dead,
    tweetFields: ['created_at', 'lang', 'entities', 'referenced_tweets'],
    lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 },
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 20_000,
    batchSize: opts.batchSize ?? 4,
    batchWaitMs: 10,
    bufferCapacity: 1000,
    usageCheckMs: 0,
  });
  const posts: Post[] = [];
  const ac = new AbortController();
  const done = (async () => {
    for await (const batch of source.batches(ac.signal)) {
      posts.push(...batch.items);
      batch.ack();
    }
  })();
  done.catch(() => undefined);
  const r: Running = {
    emu,
    clock,
    source,
    posts,
    dead,
    done,
    stop: async () => {
      ac.abort();
      await done.catch(() => undefined);
      await emu.close();
    },
  };
  running = r;
  return r;
}

describe('X stream source against the emulator (real twitter-api-v2 client, simulated clock)', () => {
  it('turns matching_rules tags into topics; a post matching two tagged rules counts for both', async () => {
    const r = await start();
    await until(() => r.posts.length >= 16, 5000, '16 posts');
    const byText = new Map(r.posts.map((p) => [p.text, p.topics]));
    assert.deepEqual(byText.get('I love bitcoin, best day ever'), ['crypto']);
    assert.deepEqual([...(byText.get('#ai and bitcoin together') ?? [])].sort(), ['ai', 'crypto']);
    assert.deepEqual(byText.get('Machine learning is fun'), ['ai']);
    assert.deepEqual(byText.get('the weather is lovely'), ['mood']);
    for (const p of r.posts) assert.notEqual(p.lang, 'und', 'tweet.fields=lang was requested and served');
    assert.equal(r.dead.letters.length, 0);
  });

  it('#11.1 #11.9 an oversized message on the stream is dead-lettered (first bytes, length, sha256) and the stream goes on', async () => {
    const huge = parseRecorded(
      JSON.stringify({ data: { id: '1999999', text: `bitcoin ${'to the moon '.repeat(200_000)}`, lang: 'en', created_at: '2026-01-01T00:00:30.000Z' } }),
    )!;
    const r = await start({ emu: { posts: [...syntheticPosts(4), huge, ...syntheticPosts(9).slice(4)] } });
    await until(
      () => r.dead.letters.length >= 1 && r.posts.some((p) => p.text === '#ai and bitcoin together'),
      10_000,
      'the oversized message and the posts after it',
    );
    const letter = r.dead.letters[0]!;
    assert.equal(letter.code, 'oversized');
    assert.equal(letter.origin, 'x-stream');
    assert.equal(letter.original.length, 4096);
    assert.ok((letter.truncated?.length ?? 0) > 2_000_000);
    assert.match(letter.truncated?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok(!r.posts.some((p) => p.id === '1999999'));
  });

  it('a gzip-compressed stream (X compresses when asked) is framed the same, UTF-8 intact', async () => {
    const r = await start({ emu: { gzip: true } });
    r.emu.inject({ kind: 'drip', ms: 200, bytes: 5, intervalMs: 1 });
    await until(() => r.posts.length >= 12, 5000, 'posts over gzip');
    assert.ok(r.posts.some((p) => p.text === '#ai and bitcoin together'));
    assert.ok(
      r.posts.some((p) => p.text === 'bitcoin 🚀 très bien, ça monte — 比特币'),
      'multi-byte characters split across 5-byte chunks survive',
    );
    assert.equal(r.emu.stats.gzipStreams, 1);
    assert.equal(r.dead.letters.length, 0);
  });

  it('backpressure: a consumer that stops pulling pauses the socket; nothing is dropped', async () => {
    const clock = new ManualClock();
    const emu = await startEmulator({ clock, rate: 1000 });
    try {
      assert.ok((await syncRules(clientFor(emu), RULES)).ok);
      const source = new XStreamSource({
        client: clientFor(emu),
        clock,
        deadLetters: new MemoryDeadLetters(),
        tweetFields: [],
        lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 },
        keepAliveTimeoutMs: 20_000,
        batchSize: 4,
        batchWaitMs: 5,
        bufferCapacity: 16,
        usageCheckMs: 0,
      });
      const ac = new AbortController();
      const it: AsyncIterator<Batch<Post>, undefined> = source.batches(ac.signal)[Symbol.asyncIterator]();
      const ids: number[] = [];
      for (const p of (await it.next()).value!.items) ids.push(Number(p.id));
      let maxBuffered = 0;
      const deadline = Date.now() + 600; // 600 ms at 1000 posts/s offered while nobody pulls
      while (Date.now() < deadline) {
        maxBuffered = Math.max(maxBuffered, source.buffered);
        await new Promise((res) => setTimeout(res, 5));
      }
      assert.ok(maxBuffered <= 16 + 64, `buffer stayed bounded (${maxBuffered})`);
      const until = Date.now() + 300;
      while (Date.now() < until) for (const p of (await it.next()).value!.items) ids.push(Number(p.id));
      ac.abort();
      while (!(await it.next()).done) {
        /* drain */
      }
      assert.ok(ids.length > 100, `kept streaming after the pause (${ids.length})`);
      const n = 9; // every synthetic post matches one of RULES: ids cycle through 1000000..1000008 with no gap
      for (let i = 1; i < ids.length; i++) assert.equal((ids[i]! - ids[i - 1]! + n) % n, 1, `no post dropped between ${ids[i - 1]} and ${ids[i]}`);
    } finally {
      await emu.close();
    }
  });

  it('a slow stream does not wait for a full batch: a lone post is handed on after batchWaitMs', async () => {
    const r = await start({ emu: { rate: 4 }, batchSize: 64 });
    const t0 = Date.now();
    await until(() => r.posts.length >= 1, 3000, 'the first post of a slow stream');
    assert.ok(Date.now() - t0 < 2000);
  });

  it('reconnects 250 ms after a dropped connection', async () => {
    const r = await start();
    await until(() => r.posts.length >= 4, 5000, 'first posts');
    r.emu.inject({ kind: 'drop' });
    assert.equal(await r.clock.waitForSleep(), 250);
    assert.equal(r.source.history.at(-1)?.cause, 'network');
    const before = r.posts.length;
    await r.clock.advance(250);
    await until(() => r.posts.length > before + 4, 5000, 'posts after reconnect');
    assert.equal(r.emu.stats.streamConnects, 2);
    const reconnects = await registry.getSingleMetricAsString('crowdpulse_x_stream_reconnects_total');
    assert.match(reconnects, /crowdpulse_x_stream_reconnects_total\{cause="network"\} [1-9]/);
    assert.equal((await streamConnected.get()).values[0]?.value, 1);
  });

  it('HTTP 503 on connect: exponential backoff from 5 s (5, 10, 20 s), then streams', async () => {
    const r = await start();
    await until(() => r.posts.length >= 1, 5000, 'first posts');
    r.emu.inject({ kind: 'refuse', status: 503, count: 3 });
    r.emu.inject({ kind: 'drop' });
    assert.equal(await r.clock.waitForSleep(), 250);
    await r.clock.advance(250);
    for (const expected of [5_000, 10_000, 20_000]) {
      assert.equal(await r.clock.waitForSleep(), expected);
      assert.equal(r.source.history.at(-1)?.cause, 'http');
      await r.clock.advance(expected);
    }
    const before = r.posts.length;
    await until(() => r.posts.length > before, 5000, 'posts after the 503s');
  });

  it('network errors back off linearly: 250, 500, 750 ms … (connection refused)', async () => {
    const clock = new ManualClock();
    const source = new XStreamSource({
      client: createXClient({ bearerToken: TOKEN, apiUrl: 'http://127.0.0.1:9' }),
      clock,
      deadLetters: new MemoryDeadLetters(),
      tweetFields: [],
      lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 },
      keepAliveTimeoutMs: 20_000,
      batchSize: 4,
      batchWaitMs: 10,
      bufferCapacity: 100,
      usageCheckMs: 0,
    });
    const ac = new AbortController();
    const done = (async () => {
      for await (const _ of source.batches(ac.signal)) {
        /* none expected */
      }
    })();
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const ms = await clock.waitForSleep();
      seen.push(ms);
      await clock.advance(ms);
    }
    ac.abort();
    await done;
    assert.deepEqual(seen, [250, 500, 750, 1000]);
    assert.ok(source.history.every((h) => h.cause === 'network'));
  });

  it('reconnects after a stall: no byte for the keep-alive timeout → new connection after 250 ms', async () => {
    const r = await start({ keepAliveTimeoutMs: 20_000 });
    await until(() => r.posts.length >= 4, 5000, 'first posts');
    r.emu.inject({ kind: 'stall', ms: 600_000 });
    await new Promise((res) => setTimeout(res, 250)); // let bytes already on the wire arrive
    await r.clock.advance(19_999);
    assert.deepEqual(r.clock.sleeps(), [], 'no reconnect before the timeout');
    await r.clock.advance(1);
    assert.equal(await r.clock.waitForSleep(), 250);
    assert.equal(r.source.history.at(-1)?.cause, 'stall');
    const before = r.posts.length;
    await r.clock.advance(250);
    await until(() => r.posts.length > before + 4, 5000, 'posts after the stall');
  });

  it('TooManyConnections (429) waits a minute, then exponentially longer; connects once the slot is free', async () => {
    const r = await start({ rules: true });
    await until(() => r.posts.length >= 1, 5000, 'first posts');
    // Take the source's place: drop it and let another client hold the one allowed connection.
    const intruder = clientFor(r.emu).v2.searchStream({ autoConnect: false });
    r.emu.inject({ kind: 'drop' });
    assert.equal(await r.clock.waitForSleep(), 250);
    await intruder.connect({ autoReconnect: false, keepAliveTimeout: 'disable' });
    await r.clock.advance(250);
    assert.equal(await r.clock.waitForSleep((ms) => ms !== 250), 60_000);
    assert.equal(r.source.history.at(-1)?.cause, 'too_many_connections');
    await r.clock.advance(60_000);
    assert.equal(await r.clock.waitForSleep((ms) => ms !== 60_000), 120_000);
    intruder.close();
    await until(() => r.emu.openConnections() === 0, 2000, 'intruder gone');
    const before = r.posts.length;
    await r.clock.advance(120_000);
    await until(() => r.posts.length > before, 5000, 'posts after the slot freed');
    assert.equal(r.emu.stats.streamRejected.tooManyConnections, 2);
  });

  it('429 rate limit: waits until x-rate-limit-reset when the window is spent', async () => {
    const r = await start({ emu: { rateLimits: { 'GET /2/tweets/search/stream': 1 } } });
    await until(() => r.posts.length >= 1, 5000, 'first posts');
    r.emu.inject({ kind: 'drop' });
    assert.equal(await r.clock.waitForSleep(), 250);
    await r.clock.advance(250);
    // The window (15 min from the first connect on the simulated clock) is spent: wait for its reset, not just 60 s.
    const delay = await r.clock.waitForSleep((ms) => ms !== 250);
    assert.equal(r.source.history.at(-1)?.cause, 'rate_limit');
    assert.ok(delay >= 14 * 60_000 && delay <= 15 * 60_000, `delay ${delay} honours the reset`);
    const before = r.posts.length;
    await r.clock.advance(delay);
    await until(() => r.posts.length > before, 5000, 'posts after the window reset');
  });

  it('malformed lines and in-stream error payloads become dead letters; the stream goes on', async () => {
    const r = await start();
    await until(() => r.posts.length >= 2, 5000, 'first posts');
    r.emu.inject({ kind: 'malformed' });
    r.emu.inject({ kind: 'error' });
    r.emu.inject({ kind: 'drip', ms: 300, bytes: 3, intervalMs: 1 });
    const before = r.posts.length;
    await until(() => r.dead.letters.length >= 2 && r.posts.length > before + 8, 5000, 'dead letters and more posts');
    const [malformed, errorPayload] = r.dead.letters;
    assert.equal(malformed!.code, 'invalid_json');
    assert.equal(Buffer.from(malformed!.original).toString('utf8'), MALFORMED_LINE);
    assert.equal(errorPayload!.code, 'stream_error_payload');
    assert.match(errorPayload!.reason, /operational-disconnect/);
    assert.equal(r.emu.stats.streamConnects, 1, 'no reconnect was needed');
    assert.ok(
      r.posts.every((p) => p.topics.length > 0 && /^\d+$/.test(p.id)),
      'dripped posts reassembled across chunks',
    );
  });

  it('a rejected bearer token stops the source with one credentials error, no retries', async () => {
    const r = await start({ token: 'wrong-token' });
    await assert.rejects(
      r.done,
      (e: unknown) => e instanceof CredentialError && /rejected \(HTTP 401/.test((e as Error).message) && !(e as Error).message.includes('wrong-token'),
    );
    assert.equal(r.emu.stats.streamRejected.unauthorized, 1);
  });
});
