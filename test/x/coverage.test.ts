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
import { COVERAGE_STALE_MS, coverageOfBuckets, coveredShare, coverageTimeline } from '../../src/query/coverage.js';
import { sqliteCoverageWriter } from '../../src/sinks/sqlite/coverage.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { XStreamSource } from '../../src/sources/x-stream/x-stream-source.js';
import { ManualClock } from '../../src/x/clock.js';
import { billingPeriod } from '../../src/x/billing-period.js';
import { registry } from '../../src/telemetry/metrics.js';
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
  // #14.4: after UsageCapExceeded the stream sleeps until the billing period resets (the emulator's reset day 1), and says so.
  const capped = source.history.find((h) => h.cause === 'usage_cap');
  assert.equal((capped?.at ?? 0) + (capped?.delayMs ?? 0), billingPeriod(capped?.at ?? 0, 1).end, 'sleeps until the cap resets');
  const gauge = async (name: string): Promise<number | undefined> => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
  assert.equal(await gauge('crowdpulse_x_usage_capped'), 1);
  assert.equal(await gauge('crowdpulse_x_usage_cap_reset_timestamp_seconds'), billingPeriod(capped?.at ?? 0, 1).end / 1000);
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
  assert.match(events.find((e) => e.state === 'capped')?.detail ?? '', new RegExp(`until ${new Date(billingPeriod(capped?.at ?? 0, 1).end).toISOString()}`));
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

test('coverageOfBuckets (one sweep) agrees with a slot-by-slot reference on 50 random timelines, backfills included', () => {
  let seed = 5;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const states = ['connected', 'connected', 'disconnected', 'paused', 'capped', 'stopped', 'backfilled'] as const;
  // Every time a multiple of SLOT, so that counting covered slots is exact.
  const SLOT = 100;
  const slot = (ms: number): number => Math.floor(ms / SLOT) * SLOT;
  let buckets = 0;
  for (let trial = 0; trial < 50; trial++) {
    const at0 = Date.UTC(2026, 11, 1);
    const events = Array.from({ length: Math.floor(random() * 40) }, () => {
      const state = states[Math.floor(random() * states.length)] as (typeof states)[number];
      const at = at0 + slot(random() * 3_600_000);
      return state === 'backfilled' ? { at, state, detail: '', until: at + slot(random() * 900_000) } : { at, state, detail: '' };
    });
    const width = [1000, 60_000, 300_000][trial % 3] as number;
    const starts = Array.from({ length: 30 }, () => at0 - 600_000 + Math.floor(random() * 80) * width);
    const now = at0 + slot(random() * 4_000_000);
    // The reference: a slot is covered when the latest stream state at or before it is a connected one
    // under COVERAGE_STALE_MS old and no later state began, or a backfill spans it.
    const timeline = events.filter((e) => e.state !== 'backfilled').sort((x, y) => x.at - y.at);
    const covered = (t: number): boolean => {
      if (events.some((e) => e.state === 'backfilled' && e.at <= t && t < (e.until ?? 0))) return true;
      const last = timeline.filter((e) => e.at <= t).at(-1);
      return last?.state === 'connected' && t < last.at + COVERAGE_STALE_MS;
    };
    const firstAt = Math.min(...events.map((e) => e.at));
    const reference = starts.map((start) => {
      const until = Math.min(start + width, now);
      if (until <= start || !(firstAt < until)) return null;
      let n = 0;
      for (let t = start; t < until; t += SLOT) if (covered(t)) n++;
      return Math.min(1, (n * SLOT) / (until - start));
    });
    const swept = coverageOfBuckets(events, starts, width, now);
    assert.equal(swept.length, reference.length);
    swept.forEach((share, i) => {
      const want = reference[i] ?? null;
      if (want === null || share === null) assert.equal(share, want, `trial ${trial} bucket ${i}`);
      else assert.ok(Math.abs(share - want) < 1e-9, `trial ${trial} bucket ${i}: ${share} vs ${want}`);
    });
    assert.deepEqual(
      starts.map((s) => coveredShare(events, s, s + width, now)),
      swept,
    );
    buckets += reference.filter((r) => r !== null && r > 0 && r < 1).length;
  }
  assert.ok(buckets > 50, `${buckets} buckets partly covered: the timelines exercise the edges`);
});

test('a backfill covers its interval whatever the stream state was; the state timeline ignores it', () => {
  const at = Date.UTC(2026, 11, 1);
  const events = [
    { at, state: 'connected' as const, detail: '' },
    { at: at + 10_000, state: 'disconnected' as const, detail: 'network' },
    { at: at + 40_000, state: 'connected' as const, detail: '' },
    // Written after the reconnect: [at + 9 s, at + 41 s) read from recent search.
    { at: at + 9_000, state: 'backfilled' as const, detail: 'search', until: at + 41_000 },
  ];
  assert.equal(coveredShare(events, at, at + 60_000, at + 60_000), 1);
  assert.equal(coveredShare(events.slice(0, 3), at, at + 60_000, at + 60_000), 0.5);
  // A backfill that reached only part of the hole (the budget ran out).
  const partial = [...events.slice(0, 3), { at: at + 10_000, state: 'backfilled' as const, detail: 'budget', until: at + 25_000 }];
  assert.equal(coveredShare(partial, at, at + 60_000, at + 60_000), 0.75);
});
