import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/x/clock.js';
import { PostBudgetGovernor } from '../../src/x/governor.js';
import { budgetConsumed, budgetExhaustion, budgetRemaining } from '../../src/x/metrics.js';
import { XStreamSource } from '../../src/sources/x-stream/x-stream-source.js';
import { syncRules } from '../../src/x/rules.js';
import { clientFor, MemoryDeadLetters, startEmulator, until } from './helpers.js';
import { tempDir } from '../helpers.js';

const DAY = 86_400_000;
const JAN = Date.UTC(2026, 0, 1);
const FEB = Date.UTC(2026, 1, 1);

describe('post-budget governor', () => {
  it('over a simulated month of a stream far faster than the budget: never crosses the cap, lasts the month, few connects', async () => {
    const clock = new ManualClock(JAN);
    const cap = 10_000;
    const g = PostBudgetGovernor.open({ cap, resetDay: 1, reserve: 50, clock });
    const inFlight = 20; // posts already on the wire when the connection is cut
    let consumed = 0;
    let connects = 0;
    const connectTimes: number[] = [];
    let maxConsumed = 0;
    let connected = false;
    while (clock.now() < FEB) {
      if (!connected) {
        const wait = g.msUntilHeadroom(connects === 0 ? 1 : g.resumeThreshold());
        if (clock.now() + wait >= FEB) break;
        await clock.advance(wait);
        connected = true;
        connects++;
        connectTimes.push(clock.now());
        continue;
      }
      // The stream delivers 2 posts a second (~170,000 a day: 500 times the budget's pace).
      await clock.advance(500);
      g.record(1);
      consumed++;
      if (g.headroom() <= 0) {
        g.record(inFlight);
        consumed += inFlight;
        connected = false;
      }
      maxConsumed = Math.max(maxConsumed, g.consumed());
    }
    assert.ok(maxConsumed <= cap, `consumed ${maxConsumed} ≤ cap ${cap}`);
    assert.ok(consumed >= cap * 0.97, `the budget is used (${consumed} of ${cap})`);
    assert.ok(connectTimes.at(-1)! > FEB - 2 * DAY, `still connecting in the last two days (${new Date(connectTimes.at(-1)!).toISOString()})`);
    // Even pace: by mid-month about half the budget is spent.
    assert.ok(connects < 2000, `connects ${connects}`);
    for (let i = 0; i + 50 < connectTimes.length; i++) assert.ok(connectTimes[i + 50]! - connectTimes[i]! > 15 * 60_000, 'never 50 connects within 15 minutes');
  });

  it('admit(n) paces a replay to the budget line', async () => {
    const clock = new ManualClock(JAN);
    const g = PostBudgetGovernor.open({ cap: 31 * 24, resetDay: 1, burst: 2, clock }); // one post an hour
    await g.admit(2);
    let admitted = false;
    const p = g.admit(1).then(() => {
      admitted = true;
    });
    await clock.waitForSleep();
    assert.equal(admitted, false);
    await clock.advance(3_600_000);
    await p;
    assert.equal(admitted, true);
    assert.equal(g.consumed(), 3);
    assert.equal((await budgetConsumed.get()).values[0]?.value, 3);
    assert.equal((await budgetRemaining.get()).values[0]?.value, 31 * 24 - 3);
    const exhaustion = (await budgetExhaustion.get()).values[0]?.value ?? 0;
    // Period-to-date rate: 3 posts in the first hour → 744 posts last 248 hours.
    assert.equal(exhaustion, (JAN + 248 * 3_600_000) / 1000);
    await assert.rejects(g.admit(10_000), /cannot admit/);
  });

  it('persists its count atomically and restores it within the same period only', () => {
    const dir = tempDir('gov');
    const statePath = join(dir, 'sub', 'state.json');
    const clock = new ManualClock(JAN + 5 * DAY);
    const a = PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock, statePath });
    a.record(120);
    a.flush();
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['state.json'], 'no temporary file left behind');
    const b = PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock, statePath });
    assert.equal(b.consumed(), 120);
    b.reconcile(150);
    assert.equal(PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock, statePath }).consumed(), 150, 'X’s higher count is kept');
    b.reconcile(10);
    assert.equal(b.consumed(), 150, 'a lower remote count never lowers the local one');
    const nextMonth = new ManualClock(FEB + DAY);
    assert.equal(PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock: nextMonth, statePath }).consumed(), 0);
    writeFileSync(statePath, '{oops');
    assert.throws(() => PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock, statePath }), /not JSON/);
    assert.ok(existsSync(statePath));
  });

  it('paces the real stream: disconnects at the line, reconnects as budget accrues, never draws UsageCapExceeded', async () => {
    const clock = new ManualClock(JAN);
    const cap = 40;
    // 20 posts/s: the posts in flight when the source cuts the connection stay well under the reserve even on a loaded machine.
    const emu = await startEmulator({ clock, usageCap: cap, rate: 20 });
    try {
      assert.ok(
        (
          await syncRules(clientFor(emu), [
            { value: 'bitcoin', tag: 'crypto' },
            { value: '#ai OR lovely', tag: 'misc' },
          ])
        ).ok,
      );
      const governor = PostBudgetGovernor.open({ cap, resetDay: 1, burst: 8, reserve: 10, clock });
      const source = new XStreamSource({
        client: clientFor(emu),
        clock,
        deadLetters: new MemoryDeadLetters(),
        governor,
        tweetFields: ['lang'],
        lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 },
        keepAliveTimeoutMs: 40 * DAY,
        batchSize: 4,
        batchWaitMs: 5,
        bufferCapacity: 100,
        usageCheckMs: 1,
      });
      const ac = new AbortController();
      let received = 0;
      const done = (async () => {
        for await (const b of source.batches(ac.signal)) received += b.items.length;
      })();
      let maxUsage = 0;
      let budgetStops = 0;
      while (clock.now() < FEB - DAY) {
        await until(() => clock.sleeps().length > 0, 5000, 'the source to wait for budget');
        maxUsage = Math.max(maxUsage, emu.currentUsage());
        budgetStops = source.history.filter((h) => h.cause === 'budget').length;
        const wait = clock.sleeps()[0]!;
        await clock.advance(Math.min(wait, FEB - DAY - clock.now()));
      }
      maxUsage = Math.max(maxUsage, emu.currentUsage());
      ac.abort();
      await done;
      assert.ok(maxUsage <= cap, `X-side usage ${maxUsage} ≤ ${cap}`);
      assert.equal(emu.stats.streamRejected.usageCap, 0, 'never answered UsageCapExceeded');
      assert.ok(budgetStops >= 3, `paced by disconnecting (${budgetStops} budget stops)`);
      assert.ok(received >= 20, `posts received over the month: ${received}`);
      assert.ok(governor.consumed() >= emu.currentUsage(), 'reconciled with GET /2/usage/tweets');
    } finally {
      await emu.close();
    }
  });
});
