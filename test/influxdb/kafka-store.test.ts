/**
 * The store path of the Kafka topology — scored-posts topic → KafkaSource (store group) → InfluxDB
 * sink — through an InfluxDB outage: while the server is down nothing is acked, the consumer
 * pauses its partitions (bounded in-flight messages), and no offset moves past an unwritten post;
 * after the restart every post is stored exactly once. Real broker (scripts/kafka.sh), real
 * InfluxDB on its own instance (scripts/influxdb.sh).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { ScoredPost } from '../../src/contract/index.js';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { scoredPostCodec } from '../../src/kafka/codec.js';
import { KafkaProducer } from '../../src/kafka/producer.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink.js';
import { KafkaSource } from '../../src/sources/kafka/kafka-source.js';
import { MemoryDeadLetters } from '../helpers.js';
import { brokerUp, deleteTestTopics, testKafkaConfig } from '../kafka/broker.js';
import { clientConfig, createDatabase, healthy, influxScript, scoredPost, testServiceDir } from './server.js';

const PORT = Number(process.env.CROWDPULSE_TEST_INFLUXDB_KAFKA_PORT ?? 18116);
const ENV = {
  INFLUXDB_PORT: String(PORT),
  INFLUXDB_RPC_PORT: String(PORT + 2),
  INFLUXDB_SERVICE_DIR: testServiceDir('influxdb-kafka-test'),
  INFLUXDB_DB: 'kafkastore',
};
const URL = `http://127.0.0.1:${PORT}`;
const OUTAGE_MS = Number(process.env.CROWDPULSE_TEST_OUTAGE_SECONDS ?? 30) * 1000;
const POSTS = 30_000;
const MAX_IN_FLIGHT = 3000;

test(
  `store role path: Kafka → InfluxDB down ${OUTAGE_MS / 1000} s → consumer pauses; afterwards every post stored once`,
  { timeout: OUTAGE_MS + 300_000 },
  async (t) => {
    const skip = await brokerUp();
    if (skip) {
      t.skip(skip);
      return;
    }
    const up = influxScript('up', ENV);
    if (up.status !== 0 || !(await healthy(URL))) {
      if (process.env.CI === 'true') throw new Error(`scripts/influxdb.sh up failed:\n${up.output}`);
      t.skip(`InfluxDB could not be started on ${URL}: ${up.output.slice(-300)}`);
      return;
    }
    t.after(() => {
      influxScript('reset', ENV);
    });
    await createDatabase(URL, 'kafkastore');

    const kafka = testKafkaConfig({ partitions: 3, maxInFlight: MAX_IN_FLIGHT, consumeBatchSize: 500 });
    await ensureTopics(kafka, crowdpulseTopics(kafka));
    const producer = await KafkaProducer.connect(kafka, 'test');
    const t0 = Date.UTC(2026, 10, 26, 6);
    const posts: ScoredPost[] = Array.from({ length: POSTS }, (_, i) =>
      scoredPost(t0 + Math.floor(i / 4), i % 4, { topics: i % 3 === 0 ? ['markets', 'climate'] : ['markets'] }),
    );
    const toKafka = new KafkaSink(producer, kafka.scoredTopic, scoredPostCodec(kafka.encoding), true);
    for (let i = 0; i < posts.length; i += 1000) await toKafka.write(posts.slice(i, i + 1000));
    await toKafka.close();

    const dead = new MemoryDeadLetters();
    const config = clientConfig(URL, 'kafkastore', { batchSize: 2000, retryInitialMs: 100, retryMaxDelayMs: 2000 });
    const sink = buildInfluxSink(config, dead);
    const source = await KafkaSource.connect({
      config: kafka,
      role: 'store',
      group: kafka.storeGroup,
      topic: kafka.scoredTopic,
      codec: scoredPostCodec(kafka.encoding),
      deadLetters: dead,
      stage: 'store',
    });
    let stored = 0;
    const pipeline = runPipeline({
      source,
      transforms: [],
      sink: { sink, options: { concurrency: 2, batching: { maxItems: 2048, maxWaitMs: 10 }, queueCapacity: 4096 } },
      onStored: (items) => (stored += items.length),
    });
    t.after(async () => {
      pipeline.stop();
      await pipeline.done.catch(() => undefined);
      await source.close().catch(() => undefined);
      await sink.close().catch(() => undefined);
    });

    // Mid-stream: stop InfluxDB once some posts are stored.
    const startDeadline = Date.now() + 60_000;
    while (stored < 2000 && Date.now() < startDeadline) await sleep(20);
    assert.ok(stored >= 2000, `stored ${stored} before the outage`);
    assert.equal(influxScript('down', ENV).status, 0);
    await sleep(3000); // requests in flight fail and start retrying
    const storedAtDown = stored;
    let sawPaused = false;
    const deadline = Date.now() + OUTAGE_MS - 3000;
    while (Date.now() < deadline) {
      await sleep(250);
      sawPaused ||= source.paused;
    }
    assert.equal(stored, storedAtDown, 'nothing is acked while InfluxDB is down');
    assert.ok(stored < POSTS, 'the outage happened mid-stream');
    assert.ok(sawPaused && source.paused, 'the consumer paused its partitions');
    assert.ok(sink.bufferedPoints <= config.maxBufferPoints);

    assert.equal(influxScript('up', ENV).status, 0);
    const drainDeadline = Date.now() + 120_000;
    while (stored < POSTS && Date.now() < drainDeadline) await sleep(200);
    assert.equal(stored, POSTS, 'every post is stored after the restart');
    assert.equal(dead.letters.length, 0);

    const query = new InfluxQuery(config);
    t.after(() => query.close());
    // Last (hooks run in the order they were added): the topics go once nothing reads them.
    t.after(() => deleteTestTopics());
    const integrity = await query.integrity();
    assert.equal(integrity.distinctPosts, POSTS);
    assert.equal(integrity.duplicateKeys, 0);
    assert.deepEqual(Object.fromEntries(integrity.rowsPerTopic), { climate: POSTS / 3, markets: POSTS });
  },
);
