import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue } from '../../src/pipeline/bounded-queue.js';
import type { Batch } from '../../src/pipeline/component.js';
import { Rebatcher } from '../../src/pipeline/rebatch.js';

function batchOf(items: number[], acked: number[], tag: number): Batch<number> {
  return { items, ack: () => acked.push(tag) };
}

test('merges small batches up to maxItems and acks each input once when the merge is acked', async () => {
  const q = new BoundedQueue<Batch<number>>('in', 100, (b) => b.items.length);
  const acked: number[] = [];
  await q.push(batchOf([1, 2], acked, 1));
  await q.push(batchOf([3, 4], acked, 2));
  await q.push(batchOf([5], acked, 3));
  const r = new Rebatcher(q, { maxItems: 4, maxWaitMs: 0 });
  const first = await r.next();
  assert.deepEqual(first?.items, [1, 2, 3, 4]);
  first?.ack();
  assert.deepEqual(acked, [1, 2]);
  q.close();
  const second = await r.next();
  assert.deepEqual(second?.items, [5]);
  second?.ack();
  second?.ack(); // a second ack is ignored
  assert.deepEqual(acked, [1, 2, 3]);
  assert.equal(await r.next(), undefined);
});

test('splits a large batch; its ack fires only when every part is acked, in any order', async () => {
  const q = new BoundedQueue<Batch<number>>('in', 100, (b) => b.items.length);
  const acked: number[] = [];
  await q.push(batchOf([1, 2, 3, 4, 5, 6, 7], acked, 1));
  q.close();
  const r = new Rebatcher(q, { maxItems: 3, maxWaitMs: 0 });
  const parts = [await r.next(), await r.next(), await r.next()];
  assert.deepEqual(
    parts.map((p) => p?.items),
    [[1, 2, 3], [4, 5, 6], [7]],
  );
  parts[2]?.ack();
  parts[0]?.ack();
  assert.deepEqual(acked, []);
  parts[1]?.ack();
  assert.deepEqual(acked, [1]);
});

test('waits up to maxWaitMs for more input before emitting a partial batch', async () => {
  const q = new BoundedQueue<Batch<number>>('in', 100, (b) => b.items.length);
  const acked: number[] = [];
  await q.push(batchOf([1], acked, 1));
  setTimeout(() => void q.push(batchOf([2], acked, 2)), 5);
  const r = new Rebatcher(q, { maxItems: 10, maxWaitMs: 500 });
  const b = await r.next();
  // The second batch arrived within the wait, so it joined the first.
  assert.deepEqual(b?.items, [1, 2]);
});
