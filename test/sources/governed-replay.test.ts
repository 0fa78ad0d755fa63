import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { buildSource } from '../../src/roles/components.js';
import { MemoryDeadLetters, ROOT, tempDir } from '../helpers.js';

const dir = tempDir('governed');

test('replay.governed caps the replay with the X post budget: the source never emits past the cap', async () => {
  const config = loadConfig({
    env: {
      CROWDPULSE_REPLAY_PATH: join(ROOT, 'bench/fixtures/posts.ndjson.gz'),
      CROWDPULSE_REPLAY_GOVERNED: 'true',
      CROWDPULSE_REPLAY_BATCH_SIZE: '10',
      CROWDPULSE_X_MONTHLY_CAP: '200',
      CROWDPULSE_X_RESERVE: '0',
      // A burst of two batches: without it, the even line of a 200-post month holds fewer than one
      // batch of 10 during the first 33 hours of a 31-day period, and this test failed on those days.
      CROWDPULSE_X_BURST: '20',
      CROWDPULSE_X_STATE_PATH: join(dir, 'governor.json'),
    },
  });
  assert.ok(config.ok);
  const source = buildSource(config.value, new MemoryDeadLetters());
  assert.ok(source.ok, source.ok ? '' : source.error.message);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 1500);
  let emitted = 0;
  for await (const batch of source.value.batches(stop.signal)) emitted += batch.items.length;
  clearTimeout(timer);
  await source.value.close();
  // The budget line (burst + the month's fraction so far) lets some posts through now; never more than the cap.
  assert.ok(emitted > 0, 'some budget is available at the start of a period');
  assert.ok(emitted <= 200, `emitted ${emitted} posts against a cap of 200`);
});

test('replay.governed without a post budget is refused with the key to set', () => {
  const config = loadConfig({
    env: { CROWDPULSE_REPLAY_GOVERNED: '1', CROWDPULSE_X_MONTHLY_CAP: '0', CROWDPULSE_REPLAY_PATH: join(ROOT, 'bench/fixtures/posts.ndjson.gz') },
  });
  assert.ok(config.ok);
  const source = buildSource(config.value, new MemoryDeadLetters());
  assert.ok(!source.ok);
  assert.match(source.error.message, /x\.monthlyCap/);
});
