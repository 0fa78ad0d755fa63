/**
 * #13.4 coverage: the X stream source records when it was connected, disconnected and capped, as
 * events in the store; a query turns them into the share of each bucket the stream covered. Against
 * the emulator's faults, with the real twitter-api-v2 client and a simulated clock.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Post } from '../../src/contract/index.js';
import { BufferedCoverageRecorder } from '../../src/pipeline/coverage-recorder.js';
import { coverageOfBuckets, coveredShare, coverageTimeline } from '../../src/query/coverage.js';
import { sqliteCoverageWriter } from '../../src/sinks/sqlite/coverage.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { XStreamSource } from '../../src/sources/x-stream/x-stream-source.js';
import { ManualClock } from '../../src/x/clock.js';
import { syncRules } from '../../src/x/rules.js';
import { tempDir } from '../helpers.js';
import { clientFor, MemoryDeadLetters, startEmulator, TOKEN, until } from './helpers.js';

test('a dropped connection and a spent usage cap are coverage events; the bucket of the gap is covered in part', async (t) => {
  const clock = new ManualClock();
  const emu = await startEmulator({ clock, usageCap: 40 });
  t.after(() => emu.close());
  assert.ok(
    (
      await syncRules(clientFor(emu), [
        { value: 'bitcoin', tag: 'crypto' },
        { value: 'ai', tag: 'ai' },
      ])
    ).ok,
  );
  const path = join(tempDir('coverage'), 'store.db');
  await new SqliteStore(path).close();
  const coverage = new BufferedCoverageRecorder(sqliteCoverageWriter(path), { now: () => clock.now() });
  const source = new XStreamSource({
    client: clientFor(emu, TOKEN),
    clock,
    deadLetters: new MemoryDeadLetters(),
    tweetFields: ['created_at', 'lang'],
    lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 },
    keepAliveTimeoutMs: 60_000,
    batchSize: 4,
    batchWaitMs: 10,
    bufferCapacity: 1000,
    usageCheckMs: 0,
    coverage,
  });
  const posts: Post[] = [];
  const ac = new AbortController();
  const done = (async () => {
    for await (const batch of source.batches(ac.signal)) {
      posts.push(...batch.items);
      batch.ack();
    }
  })();
  const t0 = clock.now();
  await until(() => posts.length >= 4, 5000, 'first posts');
  await clock.advance(1000);
  emu.inject({ kind: 'drop' });
  assert.equal(await clock.waitForSleep(), 250);
  await clock.advance(250);
  const before = posts.length;
  await until(() => posts.length > before, 5000, 'posts after the reconnect');
  await clock.advance(750);
  // The emulator's cap of 40 posts: the stream ends with UsageCapExceeded.
  for (let i = 0; i < 200 && !source.history.some((h) => h.cause === 'usage_cap'); i++) {
    await clock.advance(100);
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(
    source.history.some((h) => h.cause === 'usage_cap'),
    `history: ${source.history.map((h) => h.cause).join(',')}, posts ${posts.length}`,
  );
  ac.abort();
  await done;
  await source.close();

  const query = new SqliteQuery(path);
  t.after(() => query.close());
  const events = await query.coverage({ from: new Date(t0 - 60_000), to: new Date(clock.now() + 60_000) });
  const states = events.map((e) => e.state);
  assert.deepEqual(states.slice(0, 3), ['connected', 'disconnected', 'connected'], JSON.stringify(events));
  assert.match(events[1]?.detail ?? '', /^network/);
  assert.ok(states.includes('capped'), `capped in ${states.join(',')}`);
  assert.equal(states.at(-1), 'stopped');
  assert.equal(events[1]?.at, t0 + 1000);
  assert.equal(events[2]?.at, t0 + 1250);
  // Connected 1,000 ms, down 250 ms, connected again 750 ms: 87.5 % of [t0, t0 + 2 s).
  assert.equal(coveredShare(events, t0, t0 + 2000, t0 + 2000), 0.875);
  assert.equal(coveredShare(events, t0 - 5000, t0, t0), null, 'before the first event nothing is known');
  const timeline = coverageTimeline(events, t0, t0 + 2000, 500, t0 + 2000);
  assert.deepEqual(
    timeline?.map((c) => c.covered),
    [1, 1, 0.5, 1],
  );
});

test('a connected state ends where its heartbeats stop (an ingest that died says nothing more)', () => {
  const at = Date.UTC(2026, 11, 1);
  const events = [{ at, state: 'connected' as const, detail: '' }];
  // Stale after 90 s: a 10-minute bucket is covered for 90 s of its 600.
  assert.equal(coveredShare(events, at, at + 600_000, at + 600_000), 0.15);
  const beating = [...events, { at: at + 60_000, state: 'connected' as const, detail: 'heartbeat' }];
  assert.equal(coveredShare(beating, at, at + 600_000, at + 600_000), 0.25);
  assert.equal(coveredShare(events, at, at + 60_000, at + 30_000), 1, 'only the time up to now counts');
});

test('coverageOfBuckets (one sweep) gives what coveredShare gives bucket by bucket', () => {
  let seed = 5;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const states = ['connected', 'connected', 'disconnected', 'paused', 'capped', 'stopped'] as const;
  for (let trial = 0; trial < 50; trial++) {
    const at0 = Date.UTC(2026, 11, 1);
    const events = Array.from({ length: Math.floor(random() * 40) }, () => ({
      at: at0 + Math.floor(random() * 3_600_000),
      state: states[Math.floor(random() * states.length)] as (typeof states)[number],
      detail: '',
    })).sort((a, b) => a.at - b.at);
    const width = [1000, 60_000, 300_000][trial % 3] as number;
    const starts = Array.from({ length: 30 }, () => at0 - 600_000 + Math.floor(random() * 80) * width);
    const now = at0 + Math.floor(random() * 4_000_000);
    assert.deepEqual(
      coverageOfBuckets(events, starts, width, now),
      starts.map((s) => coveredShare(events, s, s + width, now)),
      `trial ${trial}`,
    );
  }
});
