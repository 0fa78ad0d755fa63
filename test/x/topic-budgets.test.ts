/**
 * #14.2 per-topic budgets: a topic ahead of its own budget line has its rules taken off the stream
 * (X stops sending and billing its posts) while the other topics flow, and gets them back once its
 * line has room again; the rules are put back when the source stops. Against the emulator, with the
 * real twitter-api-v2 client and a simulated clock for the budget lines.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import type { Post } from '../../src/contract/index.js';
import { XStreamSource } from '../../src/sources/x-stream/x-stream-source.js';
import { registry } from '../../src/telemetry/metrics.js';
import { ManualClock } from '../../src/x/clock.js';
import { PostBudgetGovernor } from '../../src/x/governor.js';
import { listRules, syncRules } from '../../src/x/rules.js';
import { clientFor, MemoryDeadLetters, startEmulator, until } from './helpers.js';

const JAN = Date.UTC(2027, 0, 1);
const DAY = 86_400_000;

test(
  'a topic over its budget line leaves the stream and comes back when its line has room; the quiet topic flows throughout',
  { timeout: 60_000 },
  async (t) => {
    const clock = new ManualClock(JAN);
    const emu = await startEmulator({ clock, usageCap: 1_000_000, rate: 40 });
    t.after(() => emu.close());
    const client = clientFor(emu);
    assert.ok(
      (
        await syncRules(client, [
          { value: 'bitcoin', tag: 'crypto' },
          { value: 'lovely', tag: 'mood' },
        ])
      ).ok,
    );
    // crypto: 310 posts over January's 31 days, an hour's share (0.4, so 1) allowed at the start, 10 more a day.
    const governor = PostBudgetGovernor.open({ cap: 1_000_000, resetDay: 1, burst: 100_000, reserve: 10, clock, topicBudgets: new Map([['crypto', 310]]) });
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
      usageCheckMs: 0,
    });
    const posts: Post[] = [];
    const ac = new AbortController();
    const done = (async () => {
      for await (const b of source.batches(ac.signal)) posts.push(...b.items);
    })();
    const tags = async (): Promise<string[]> => (await listRules(client)).map((r) => r.tag ?? '').sort();
    const gauge = async (topic: string): Promise<number | undefined> =>
      (await registry.getSingleMetric('crowdpulse_x_topic_paused')?.get())?.values.find((v) => v.labels.topic === topic)?.value;

    await until(() => source.topicPauser?.paused.includes('crypto') === true, 10_000, 'crypto taken off the stream');
    assert.deepEqual(await tags(), ['mood'], "crypto's rule is off X's rule set, mood's stays");
    assert.equal(await gauge('crypto'), 1);
    const consumedAtPause = governor.topicConsumption('crypto');
    // The quiet topic flows on; crypto posts stop (those on the wire when the rule went are counted, then no more).
    const seen = posts.length;
    await until(() => posts.length >= seen + 40, 10_000, 'mood posts while crypto is off');
    const settled = posts.length;
    await until(() => posts.length >= settled + 40, 10_000, 'more mood posts');
    assert.ok(
      posts.slice(settled).every((p) => !p.topics.includes('crypto')),
      'no crypto post once its rule is off',
    );
    assert.ok(governor.topicConsumption('crypto') <= consumedAtPause + 40, 'crypto consumption stops growing');

    // Two days on, crypto's line allows 20 more: its rule goes back on and its posts flow again.
    await clock.advance(2 * DAY);
    await until(() => source.topicPauser?.paused.includes('crypto') === false, 10_000, 'crypto back on the stream');
    assert.deepEqual(await tags(), ['crypto', 'mood']);
    const back = posts.length;
    await until(() => posts.slice(back).some((p) => p.topics.includes('crypto')), 10_000, 'crypto posts again');
    // It spends its new room and goes off again; stopping the source puts its rule back.
    await until(() => source.topicPauser?.paused.includes('crypto') === true, 10_000, 'crypto off again');
    assert.ok(governor.topicHeadroom('crypto') <= 0, 'off again because its line is reached again');
    ac.abort();
    await done;
    assert.deepEqual(await tags(), ['crypto', 'mood'], 'the rule taken off is back when the source stops');
    assert.equal(await gauge('crypto'), 0);
  },
);

test('per-topic counts survive a restart (state file) and reset with the billing period', async () => {
  const statePath = join(tempDir('topic-budgets'), 'governor.json');
  const clock = new ManualClock(JAN + DAY);
  const budgets = new Map([['crypto', 310]]);
  const g = PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock, statePath, topicBudgets: budgets });
  for (let i = 0; i < 7; i++) {
    g.record(1);
    g.recordTopics(['crypto', 'mood']);
  }
  g.flush();
  assert.equal(g.topicHeadroom('mood'), Infinity, 'a topic without a budget has only the project line');
  const line = Math.floor(1 + 310 * (DAY / (31 * DAY)));
  assert.equal(g.topicHeadroom('crypto'), line - 7);
  const again = PostBudgetGovernor.open({ cap: 1000, resetDay: 1, clock, statePath, topicBudgets: budgets });
  assert.equal(again.topicConsumption('crypto'), 7);
  assert.equal(again.consumed(), 7);
  await clock.advance(31 * DAY);
  assert.equal(again.topicConsumption('crypto'), 0, 'a new period starts every topic at zero');
});
