import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Batch, Sink, Source, Transform } from '../../src/pipeline/component.js';
import { runPipeline } from '../../src/pipeline/runner.js';

/** A source that produces `total` numbers in batches of `size`, as fast as the pipeline pulls them. */
function counterSource(total: number, size: number, payloadBytes = 0): Source<{ n: number; payload: string }> & { produced: number; acked: number } {
  const state = {
    name: 'counter',
    produced: 0,
    acked: 0,
    async *batches(signal: AbortSignal): AsyncGenerator<Batch<{ n: number; payload: string }>> {
      while (state.produced < total && !signal.aborted) {
        const items = Array.from({ length: Math.min(size, total - state.produced) }, (_, i) => ({
          n: state.produced + i,
          payload: 'x'.repeat(payloadBytes) + String(state.produced + i),
        }));
        state.produced += items.length;
        yield {
          items,
          ack: () => {
            state.acked += items.length;
          },
        };
      }
    },
    async close() {},
  };
  return state;
}

const double: Transform<unknown, unknown> = {
  name: 'double',
  async apply(batch) {
    return { items: (batch.items as { n: number; payload: string }[]).map((x) => ({ ...x, n: x.n * 2 })), ack: batch.ack };
  },
  async close() {},
};

test('every item reaches the sink once and every batch is acked after the sink wrote it', async () => {
  const source = counterSource(1000, 7);
  const seen: number[] = [];
  let ackedBeforeWrite = false;
  const sink: Sink<unknown> = {
    name: 'collect',
    async write(items) {
      if (source.acked > seen.length) ackedBeforeWrite = true;
      for (const x of items as { n: number }[]) seen.push(x.n);
    },
    async close() {},
  };
  const p = runPipeline({
    source,
    transforms: [{ transform: double, options: { concurrency: 3, batching: { maxItems: 50, maxWaitMs: 1 }, queueCapacity: 100 } }],
    sink: { sink, options: { concurrency: 1, queueCapacity: 100 } },
  });
  await p.done;
  assert.equal(seen.length, 1000);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i * 2),
  );
  assert.equal(source.acked, 1000);
  assert.equal(ackedBeforeWrite, false);
});

test('a slow sink slows the source: queue depths stay within capacity and the heap stays bounded', async () => {
  // 200,000 items of ~1 KiB would be ~200 MiB if the source ran ahead; the queues allow ~2×1,000 items.
  const total = 200_000;
  const source = counterSource(total, 100, 1024);
  let written = 0;
  const maxDepths = [0, 0];
  const sink: Sink<unknown> = {
    name: 'throttled',
    async write(items) {
      written += items.length;
      await sleep(1); // ~100,000 items/s at most, far slower than the source
    },
    async close() {},
  };
  const capacity = 1000;
  const p = runPipeline({
    source,
    transforms: [{ transform: double, options: { concurrency: 2, queueCapacity: capacity } }],
    sink: { sink, options: { concurrency: 1, queueCapacity: capacity } },
  });
  global.gc?.();
  const heapStart = process.memoryUsage().heapUsed;
  let heapMax = heapStart;
  let maxAhead = 0;
  const timer = setInterval(() => {
    p.queues.forEach((q, i) => {
      maxDepths[i] = Math.max(maxDepths[i] ?? 0, q.depth);
    });
    heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    maxAhead = Math.max(maxAhead, source.produced - written);
  }, 2);
  await p.done;
  clearInterval(timer);
  assert.equal(written, total);
  for (const d of maxDepths) assert.ok(d <= capacity, `queue depth ${d} exceeded capacity ${capacity}`);
  // In flight at most: two queues + one batch in each transform worker + one in the sink + one the source holds.
  const bound = 2 * capacity + 2 * 100 + 100 + 100;
  assert.ok(maxAhead <= bound, `source ran ${maxAhead} items ahead of the sink (bound ${bound})`);
  const grownMiB = (heapMax - heapStart) / 2 ** 20;
  assert.ok(grownMiB < 64, `heap grew by ${grownMiB.toFixed(1)} MiB while 200 MiB of input flowed through`);
});

test('a failing sink stops the pipeline with the stage named, and the failed batch is not acked', async () => {
  const source = counterSource(100, 10);
  let calls = 0;
  const sink: Sink<unknown> = {
    name: 'flaky',
    async write() {
      calls += 1;
      if (calls === 3) throw new Error('disk full');
    },
    async close() {},
  };
  const p = runPipeline({ source, transforms: [], sink: { sink, options: { concurrency: 1, queueCapacity: 20 } } });
  await assert.rejects(p.done, /stage flaky failed: disk full/);
  assert.equal(source.acked, 20);
});

test('stop() ends reading; everything already read is still written and acked', async () => {
  const source = counterSource(1_000_000, 10);
  let written = 0;
  const sink: Sink<unknown> = {
    name: 's',
    async write(items) {
      written += items.length;
      await sleep(1);
    },
    async close() {},
  };
  const p = runPipeline({
    source,
    transforms: [{ transform: double, options: { concurrency: 1, queueCapacity: 50 } }],
    sink: { sink, options: { concurrency: 1, queueCapacity: 50 } },
  });
  await sleep(30);
  p.stop();
  await p.done;
  assert.ok(source.produced < 1_000_000);
  assert.equal(written, source.produced);
  assert.equal(source.acked, source.produced);
});

test('a transform stage with concurrency > 1 hands batches on in the order it took them, however long each takes (the shift detector reads event time from the order)', async () => {
  const source = counterSource(600, 10);
  // Earlier batches take longer: without ordering, later ones would reach the sink first.
  const slowFirst: Transform<unknown, unknown> = {
    name: 'slow-first',
    async apply(batch) {
      const first = (batch.items as { n: number }[])[0]?.n ?? 0;
      await sleep(first % 30 === 0 ? 25 : 1);
      return batch;
    },
    async close() {},
  };
  const seen: number[] = [];
  const sink: Sink<unknown> = {
    name: 'collect',
    async write(items) {
      for (const x of items as { n: number }[]) seen.push(x.n);
    },
    async close() {},
  };
  const p = runPipeline({
    source,
    transforms: [{ transform: slowFirst, options: { concurrency: 3, queueCapacity: 100 } }],
    sink: { sink, options: { concurrency: 1, queueCapacity: 100 } },
  });
  await p.done;
  assert.deepEqual(
    seen,
    Array.from({ length: 600 }, (_, i) => i),
  );
  assert.equal(source.acked, 600);
});
