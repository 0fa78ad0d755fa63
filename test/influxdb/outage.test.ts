/**
 * InfluxDB stopped for 30 s in the middle of a stream, then started again (its own instance, on its
 * own port, through scripts/influxdb.sh). The sink's write does not resolve while the server is
 * away, so the runner's bounded queues fill and the source stops being read (backpressure); memory
 * stays bounded; afterwards every post is stored exactly once and none is dead-lettered.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { ScoredPost } from '../../src/contract/index.js';
import type { Batch, Source } from '../../src/pipeline/component.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { influxRetries } from '../../src/sinks/influxdb/metrics.js';
import { MemoryDeadLetters } from '../helpers.js';
import { clientConfig, createDatabase, healthy, influxScript, scoredPost, testServiceDir } from './server.js';

const PORT = Number(process.env.CROWDPULSE_TEST_INFLUXDB_OUTAGE_PORT ?? 18096);
const ENV = {
  INFLUXDB_PORT: String(PORT),
  INFLUXDB_RPC_PORT: String(PORT + 2),
  INFLUXDB_SERVICE_DIR: testServiceDir('influxdb-outage-test'),
  INFLUXDB_DB: 'outage',
};
const URL = `http://127.0.0.1:${PORT}`;
const OUTAGE_MS = Number(process.env.CROWDPULSE_TEST_OUTAGE_SECONDS ?? 30) * 1000;
const RATE = 2000; // posts/s offered by the source
const BATCH = 100;

/** A paced source of scored posts (1–2 topics each) that counts what it produced and what was acked. */
class PacedSource implements Source<ScoredPost> {
  readonly name = 'paced';
  produced = 0;
  acked = 0;
  async *batches(signal: AbortSignal): AsyncIterable<Batch<ScoredPost>> {
    const t0 = Date.UTC(2026, 10, 26);
    const started = Date.now();
    while (!signal.aborted) {
      const due = started + (this.produced / RATE) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      const items = Array.from({ length: BATCH }, (_, k) => {
        const i = this.produced + k;
        return scoredPost(t0 + Math.floor(i / 3), i % 3, { topics: i % 4 === 0 ? ['markets', 'climate'] : ['markets'] });
      });
      this.produced += items.length;
      yield { items, ack: () => (this.acked += items.length) };
    }
  }
  async close(): Promise<void> {}
}

const retries = async (): Promise<number> => (await influxRetries.get()).values.reduce((n, v) => n + v.value, 0);

test(
  `InfluxDB down for ${OUTAGE_MS / 1000} s mid-stream: backpressure, bounded memory, every post stored once`,
  { timeout: OUTAGE_MS + 180_000 },
  async (t) => {
    const up = influxScript('up', ENV);
    if (up.status !== 0 || !(await healthy(URL))) {
      if (process.env.CI === 'true') throw new Error(`scripts/influxdb.sh up failed:\n${up.output}`);
      t.skip(`InfluxDB could not be started on ${URL} (bash scripts/influxdb.sh up): ${up.output.slice(-300)}`);
      return;
    }
    t.after(() => {
      influxScript('down', ENV);
    });
    await createDatabase(URL, 'outage');

    const source = new PacedSource();
    const dead = new MemoryDeadLetters();
    const maxBufferPoints = 5000;
    const queueCapacity = 4000;
    const config = clientConfig(URL, 'outage', { batchSize: 1000, maxBufferPoints, retryInitialMs: 100, retryMaxDelayMs: 2000 });
    const sink = buildInfluxSink(config, dead);
    const pipeline = runPipeline({
      source,
      transforms: [],
      sink: { sink, options: { concurrency: 2, queueCapacity } },
    });

    await sleep(5000);
    assert.ok(source.acked > 0, 'posts are stored before the outage');
    const retriesBefore = await retries();
    const down = influxScript('down', ENV);
    assert.equal(down.status, 0, down.output);
    // A write that was in flight while the server shut down may still have been answered: settle first.
    await sleep(1000);
    const atDown = { produced: source.produced, acked: source.acked, heap: process.memoryUsage().heapUsed };
    let maxHeap = atDown.heap;
    let maxBuffered = 0;
    const deadline = Date.now() + OUTAGE_MS;
    let producedAfterFill = -1;
    while (Date.now() < deadline) {
      await sleep(250);
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
      maxBuffered = Math.max(maxBuffered, sink.bufferedPoints);
      if (producedAfterFill < 0 && Date.now() > deadline - OUTAGE_MS / 2) producedAfterFill = source.produced;
    }
    const atUp = { produced: source.produced, acked: source.acked };
    // Backpressure: nothing is acked while the server is away, and the source stalls once the
    // queue and the sink's buffer are full (it produced nothing in the second half of the outage).
    assert.equal(atUp.acked, atDown.acked, 'no batch acked while InfluxDB is down');
    assert.equal(atUp.produced, producedAfterFill, 'the source is not read once the queues are full');
    const inFlight = atUp.produced - atUp.acked;
    assert.ok(inFlight <= queueCapacity + maxBufferPoints + 2 * BATCH, `posts held during the outage: ${inFlight}`);
    assert.ok(maxBuffered <= maxBufferPoints);
    assert.ok(maxHeap - atDown.heap < 64 * 1024 * 1024, `heap grew by ${((maxHeap - atDown.heap) / 1048576).toFixed(1)} MiB during the outage`);
    assert.ok((await retries()) > retriesBefore, 'writes were retried');

    const restarted = influxScript('up', ENV);
    assert.equal(restarted.status, 0, restarted.output);
    // Let the backlog drain and some new posts flow, then stop the source and wait for durability.
    const drainDeadline = Date.now() + 60_000;
    while (source.acked < atUp.produced && Date.now() < drainDeadline) await sleep(200);
    assert.ok(source.acked >= atUp.produced, 'the backlog is written after the restart');
    await sleep(2000);
    pipeline.stop();
    await pipeline.done;
    await sink.close();

    assert.equal(dead.letters.length, 0);
    assert.equal(source.acked, source.produced);
    const query = new InfluxQuery(config);
    t.after(() => query.close());
    const integrity = await query.integrity();
    const expectedPoints = source.produced + Math.ceil(source.produced / 4);
    let stored = 0;
    for (const n of integrity.rowsPerTopic.values()) stored += n;
    assert.equal(integrity.duplicateKeys, 0);
    assert.equal(integrity.distinctPosts, source.produced);
    assert.equal(stored, expectedPoints);
    t.diagnostic(
      `produced ${source.produced} posts (${expectedPoints} points); held during the outage ${inFlight}; heap +${((maxHeap - atDown.heap) / 1048576).toFixed(1)} MiB`,
    );
  },
);
