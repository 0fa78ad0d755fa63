import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Closer } from '../../src/roles/lifecycle.js';
import { CrowdpulseError } from '../../src/errors.js';

test('Closer closes last opened first, runs every step when one fails, and throws the first failure', async () => {
  const closed: string[] = [];
  const closer = new Closer();
  closer.add('a', 'a', async (x) => void closed.push(x));
  closer.add('b', 'b', () => Promise.reject(new Error('b broke')));
  closer.add('c', 'c', async (x) => void closed.push(x));
  await assert.rejects(closer.closeAll(), /b broke/);
  assert.deepEqual(closed, ['c', 'a']);
  await closer.closeAll(); // the steps ran once: nothing left
  assert.deepEqual(closed, ['c', 'a']);
});

test('Closer with a bound: a step that never finishes fails with CP_CLOSE_TIMEOUT naming it and what was left unclosed', async () => {
  const closed: string[] = [];
  const closer = new Closer();
  closer.add('producer', 'producer', async (x) => void closed.push(x));
  closer.add('consumer', 'consumer', () => new Promise<void>(() => undefined)); // waits on a broker that is gone
  closer.add('http', 'http', async (x) => void closed.push(x));
  const error = await closer.closeAll(50).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof CrowdpulseError, String(error));
  assert.equal(error.code, 'CP_CLOSE_TIMEOUT');
  assert.match(error.message, /closing consumer did not finish within 50 ms; not closed: producer/);
  assert.deepEqual(closed, ['http']);
});

test('Closer with a bound: steps that finish in time close as without one', async () => {
  const closed: string[] = [];
  const closer = new Closer();
  for (const name of ['a', 'b', 'c']) closer.add(name, name, (x) => new Promise<void>((resolve) => setTimeout(() => resolve(void closed.push(x)), 5)));
  await closer.closeAll(5000);
  assert.deepEqual(closed, ['c', 'b', 'a']);
});
