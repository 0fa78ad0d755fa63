import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue } from '../../src/pipeline/bounded-queue.js';

test('push waits while the queue is full and resumes when an item is taken', async () => {
  const q = new BoundedQueue<number>('q', 2);
  await q.push(1);
  await q.push(2);
  let third = false;
  const pending = q.push(3).then(() => {
    third = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, 'third push must wait');
  assert.equal(await q.shift(), 1);
  await pending;
  assert.equal(third, true);
  assert.equal(q.depth, 2);
});

test('weights count items, not entries; an oversize entry enters only an empty queue', async () => {
  const q = new BoundedQueue<number[]>('w', 10, (b) => b.length);
  await q.push([1, 2, 3, 4, 5, 6]);
  let admitted = false;
  const p = q.push([1, 2, 3, 4, 5]).then(() => {
    admitted = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(admitted, false);
  q.tryShift();
  await p;
  assert.equal(q.depth, 5);
  const big = new BoundedQueue<number[]>('big', 3, (b) => b.length);
  await big.push([1, 2, 3, 4, 5]);
  assert.equal(big.depth, 5);
});

test('close lets consumers drain what is left, then ends iteration', async () => {
  const q = new BoundedQueue<number>('c', 5);
  await q.push(1);
  await q.push(2);
  q.close();
  const seen: number[] = [];
  for await (const x of q) seen.push(x);
  assert.deepEqual(seen, [1, 2]);
  await assert.rejects(q.push(3), /closed/);
});

test('waitForItem times out on an empty queue', async () => {
  const q = new BoundedQueue<number>('t', 1);
  assert.equal(await q.waitForItem(5), false);
  setTimeout(() => void q.push(1), 2);
  assert.equal(await q.waitForItem(1000), true);
});
