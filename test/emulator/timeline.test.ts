/** The timeline's index space: history computed from its plan, live posts in chunks, snowflake ids, pruning. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyPlan, snowflake, snowflakeTime, Timeline, SNOWFLAKE_EPOCH_MS } from '../../src/emulator/timeline.js';

const START = Date.UTC(2026, 2, 1, 12, 0, 0);

test('snowflakes: (ms − epoch) << 22 | sequence, as decimal', () => {
  assert.equal(snowflake(SNOWFLAKE_EPOCH_MS, 0), '0');
  assert.equal(snowflake(SNOWFLAKE_EPOCH_MS + 1, 3), String((1n << 22n) | 3n));
  assert.equal(snowflakeTime(BigInt(snowflake(START, 17))), START);
});

test('history above 1,000 posts/s: several posts per ms, ids unique and increasing, all before start', () => {
  const plan = historyPlan({ historySeconds: 2, rate: 2500, recordingLength: 7, loop: true, startMs: START });
  assert.equal(plan.count, 5000);
  const t = new Timeline(plan);
  let prev = -1n;
  for (let i = 0; i < t.size; i++) {
    const id = BigInt(t.idAt(i));
    assert.ok(id > prev, `${i}: ${id} after ${prev}`);
    prev = id;
    assert.equal(snowflakeTime(id), t.timeAt(i));
    assert.equal(t.indexAt(i), i % 7);
  }
  assert.equal(t.timeAt(0), START - 2000);
  assert.ok(t.timeAt(t.size - 1) < START);
});

test('without loop the history holds the recording once', () => {
  assert.equal(historyPlan({ historySeconds: 100, rate: 10, recordingLength: 9, loop: false, startMs: START }).count, 9);
  assert.equal(historyPlan({ historySeconds: 100, rate: 10, recordingLength: 9, loop: true, startMs: START }).count, 1000);
});

test('live posts: same-ms posts get increasing sequences; lowerBound finds times; old chunks are pruned', () => {
  const t = new Timeline(historyPlan({ historySeconds: 10, rate: 1, recordingLength: 3, loop: true, startMs: START }));
  const n = (1 << 16) * 2 + 10;
  for (let i = 0; i < n; i++) t.push(START + Math.floor(i / 4), i % 3);
  assert.equal(t.size, 10 + n);
  assert.equal(t.idAt(10), snowflake(START, 0));
  assert.equal(t.idAt(13), snowflake(START, 3));
  assert.equal(t.idAt(14), snowflake(START + 1, 0));
  assert.equal(t.lowerBound(START), 10, 'after the 10 history posts');
  assert.equal(t.lowerBound(START + 5), 10 + 20);
  assert.equal(t.lowerBound(START - 10_000), 0);
  assert.equal(t.lowerBound(START + n), t.size);
  // Everything of the first chunk is older than START + 20,000: it goes, and the history with it.
  t.prune(START + 20_000);
  assert.equal(t.first, 10 + (1 << 16));
  assert.equal(t.lowerBound(START), t.first);
  assert.equal(t.timeAt(t.first), START + (1 << 14));
  assert.equal(t.indexAt(t.size - 1), (n - 1) % 3);
  assert.throws(() => t.timeAt(10 + 5), RangeError, 'a dropped live post is gone');
});
