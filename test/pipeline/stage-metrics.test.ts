/**
 * #12: the runner instruments every stage of every pipeline (items in and out, batch sizes,
 * durations, errors), and every store sink's posts get an end-to-end latency — components emit
 * none of these themselves. One test per sink kind, each against the real thing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ScoredPost } from '../../src/contract/index.js';
import { influxdbSection } from '../../src/config/sections/influxdb.js';
import { pipeline } from '../../src/pipeline/builder.js';
import type { Batch, Sink, Source } from '../../src/pipeline/component.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { TallyDeadLetterSink } from '../../src/sinks/dead-letter/tally-dead-letter-sink.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink.js';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { scoredPostCodec } from '../../src/kafka/codec.js';
import { KafkaProducer } from '../../src/kafka/producer.js';
import { registry } from '../../src/telemetry/metrics.js';
import { MemoryDeadLetters, tempDir } from '../helpers.js';
import { scoredPost, testDatabase } from '../influxdb/server.js';
import { brokerUp, deleteTestTopics, testKafkaConfig } from '../kafka/broker.js';

const dir = tempDir('stage-metrics');

/** A metric's value for labels, summed over series that match (histograms: their _count). */
async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter(
      (v) =>
        (name.endsWith('_total') || (v as { metricName?: string }).metricName?.endsWith('_count')) &&
        Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
    )
    .reduce((sum, v) => sum + v.value, 0);
}

async function snapshot(component: string): Promise<Record<string, number>> {
  return {
    in: await value('crowdpulse_stage_items_total', { component, direction: 'in' }),
    out: await value('crowdpulse_stage_items_total', { component, direction: 'out' }),
    batches: await value('crowdpulse_stage_batch_size', { component }),
    timed: await value('crowdpulse_stage_seconds', { component }),
    storeOut: await value('crowdpulse_posts_total', { stage: 'store', direction: 'out' }),
    latencies: await value('crowdpulse_end_to_end_latency_seconds'),
  };
}

const delta = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));

const base = Date.UTC(2026, 10, 3, 6, 0, 0);
const posts = (n: number): ScoredPost[] => Array.from({ length: n }, (_, i) => scoredPost(base + i * 1000, i + 1, { ingestedAt: Date.now() - 50 }));

function listSource(items: readonly ScoredPost[], size: number): Source<ScoredPost> {
  return {
    name: 'list',
    async *batches(): AsyncGenerator<Batch<ScoredPost>> {
      for (let i = 0; i < items.length; i += size) yield { items: items.slice(i, i + size), ack: () => undefined };
    },
    async close() {},
  };
}

async function drive(sink: Sink<ScoredPost>, items: readonly ScoredPost[], tally?: TallyDeadLetterSink): Promise<void> {
  const spec = pipeline(listSource(items, 25)).to(sink, { concurrency: 1, queueCapacity: 1000 });
  await runPipeline(tally ? { ...spec, sinkDeadLetters: tally } : spec).done;
}

test('#12 stage metrics, SQLite sink: items in and out, batches, durations, store throughput and end-to-end latency', async () => {
  const before = await snapshot('sqlite');
  const sink = new SqliteStore(join(dir, 'metrics.db'));
  await drive(sink, posts(100));
  await sink.close();
  assert.deepEqual(delta(await snapshot('sqlite'), before), { in: 100, out: 100, batches: 4, timed: 4, storeOut: 100, latencies: 100 });
});

test('#12 stage metrics, InfluxDB sink: the store the k8s manifests deploy reports throughput and latency too; refused posts are not counted out', async (t) => {
  const influx = await testDatabase(t);
  if (!influx) return;
  t.after(() => influx.drop());
  const before = await snapshot('influxdb');
  const dead = new TallyDeadLetterSink(new MemoryDeadLetters());
  const sink = buildInfluxSink(influx.config(), dead);
  await drive(sink, posts(100), dead);
  await sink.close();
  assert.deepEqual(delta(await snapshot('influxdb'), before), { in: 100, out: 100, batches: 4, timed: 4, storeOut: 100, latencies: 100 });

  // A database that does not exist: every post dead-lettered, none counted as stored.
  const refusedBefore = await snapshot('influxdb');
  const refusing = buildInfluxSink(influxdbSection.parse({ url: influx.url, bucket: `${influx.db}_missing/autogen` }), dead);
  await drive(refusing, posts(50), dead);
  await refusing.close();
  const refused = delta(await snapshot('influxdb'), refusedBefore);
  assert.equal(refused.in, 50);
  assert.equal(refused.out, 0);
  assert.equal(refused.storeOut, 0);
  assert.equal(dead.count, 50);
});

test('#12 stage metrics, Kafka sink: items in and out, batches and durations; not a store, so no store throughput or latency', async (t) => {
  const skip = await brokerUp();
  if (skip) {
    t.skip(skip);
    return;
  }
  const config = testKafkaConfig();
  await ensureTopics(config, crowdpulseTopics(config));
  const producer = await KafkaProducer.connect(config, 'test');
  t.after(async () => {
    await producer.close();
    await deleteTestTopics();
  });
  const sink = new KafkaSink(producer, config.scoredTopic, scoredPostCodec('avro'), false, { stage: 'analyze' });
  const before = await snapshot(sink.name);
  await drive(sink, posts(100));
  assert.deepEqual(delta(await snapshot(sink.name), before), { in: 100, out: 100, batches: 4, timed: 4, storeOut: 0, latencies: 0 });
});
