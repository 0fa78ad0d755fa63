import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import type { KafkaConfig } from '../../src/config/sections/kafka.js';
import type { Post } from '../../src/contract/index.js';
import type { Batch } from '../../src/pipeline/component.js';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { ENCODING_HEADER, SCHEMA_HEADER, headerValue, postCodec } from '../../src/kafka/codec.js';
import { KafkaProducer, type OutgoingMessage } from '../../src/kafka/producer.js';
import { KafkaDeadLetterSink, DEAD_LETTER_HEADERS } from '../../src/sinks/kafka/kafka-dead-letter-sink.js';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink.js';
import { KafkaSource } from '../../src/sources/kafka/kafka-source.js';
import { registry } from '../../src/telemetry/metrics.js';
import { MemoryDeadLetters } from '../helpers.js';
import { brokerUp, deleteTestTopics, readTopic, testKafkaConfig } from './broker.js';
import { makePosts } from './posts.js';

const skip = await brokerUp();
if (skip) console.log(`# skipping Kafka transport tests: ${skip}`);

async function setup(overrides: Partial<KafkaConfig> = {}): Promise<{ config: KafkaConfig; producer: KafkaProducer }> {
  const config = testKafkaConfig(overrides);
  await ensureTopics(config, crowdpulseTopics(config));
  return { config, producer: await KafkaProducer.connect(config, 'test') };
}

const opened: KafkaSource<Post>[] = [];
async function source(config: KafkaConfig, deadLetters = new MemoryDeadLetters()): Promise<KafkaSource<Post>> {
  return track(
    await KafkaSource.connect({
      config,
      role: 'test',
      group: config.analyzeGroup,
      topic: config.rawTopic,
      codec: postCodec('avro'),
      deadLetters,
      stage: 'analyze',
    }),
  );
}
function track(s: KafkaSource<Post>): KafkaSource<Post> {
  opened.push(s);
  return s;
}

/** Sum of a metric's samples whose labels include `labels`, from the shared registry. */
async function metricSum(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const values = (m?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((n, v) => n + v.value, 0);
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pulls batches until `n` items arrived (or the time runs out). */
async function take(it: AsyncIterator<Batch<Post>>, n: number, { timeoutMs = 30000, ack = false } = {}): Promise<Batch<Post>[]> {
  const out: Batch<Post>[] = [];
  let count = 0;
  const deadline = Date.now() + timeoutMs;
  while (count < n) {
    const remaining = deadline - Date.now();
    assert.ok(remaining > 0, `only ${count} of ${n} items arrived`);
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([it.next(), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), remaining)))]);
    clearTimeout(timer);
    assert.notEqual(next, 'timeout', `only ${count} of ${n} items arrived`);
    const r = next as IteratorResult<Batch<Post>>;
    assert.ok(!r.done, 'source ended early');
    out.push(r.value);
    if (ack) r.value.ack();
    count += r.value.items.length;
  }
  return out;
}

describe('Kafka transport (real broker)', { skip }, () => {
  const producers: KafkaProducer[] = [];
  after(async () => {
    for (const s of opened) await s.close();
    for (const p of producers) await p.close();
    await deleteTestTopics();
  });

  it('delivers every post keyed by id with schema headers, and the consumer reads each once', async () => {
    const { config, producer } = await setup();
    producers.push(producer);
    const posts = makePosts(1500);
    const sink = new KafkaSink(producer, config.rawTopic, postCodec('avro'), false);
    for (let i = 0; i < posts.length; i += 250) await sink.write(posts.slice(i, i + 250));

    const raw = await readTopic(config.rawTopic, posts.length);
    assert.equal(raw.length, posts.length);
    const first = raw[0]!;
    assert.equal(headerValue(first.headers, SCHEMA_HEADER), 'post.v2');
    assert.equal(headerValue(first.headers, ENCODING_HEADER), 'avro');
    assert.ok(raw.every((m) => posts.some((p) => p.id === String(m.key))));

    const src = await source(config);
    const batches = await take(src.batches(new AbortController().signal)[Symbol.asyncIterator](), posts.length);
    const got = batches.flatMap((b) => b.items);
    assert.equal(new Set(got.map((p) => p.id)).size, posts.length);
    assert.deepEqual(
      [...got].sort((a, b) => a.id.localeCompare(b.id)),
      [...posts].sort((a, b) => a.id.localeCompare(b.id)),
    );
    assert.ok(src.assignment.length === config.partitions);
    for (const b of batches) b.ack();
    await src.close();
  });

  it('commits only the highest contiguous acked offset: un-acked messages are read again by the next member', async () => {
    const { config, producer } = await setup({ partitions: 1, consumeBatchSize: 10, drainTimeoutMs: 300 });
    producers.push(producer);
    const posts = makePosts(100);
    await new KafkaSink(producer, config.rawTopic, postCodec('avro'), false).write(posts);

    const first = await source(config);
    const batches = await take(first.batches(new AbortController().signal)[Symbol.asyncIterator](), 100);
    const ids = batches.map((b) => b.items.map((p) => p.id));
    // Ack out of order, leaving a gap: batches 0, 2, 1 and 4 acked; 3 never.
    for (const i of [0, 2, 1, 4]) batches[i]!.ack();
    const acked = ids.slice(0, 3).flat();
    await first.close();

    const second = await source(config);
    const again = (await take(second.batches(new AbortController().signal)[Symbol.asyncIterator](), 100 - acked.length)).flatMap((b) =>
      b.items.map((p) => p.id),
    );
    assert.deepEqual(
      again,
      posts.map((p) => p.id).filter((id) => !acked.includes(id)),
      'everything from the first un-acked message on is delivered again, in order',
    );
    await second.close();
  });

  it('pauses its partitions at maxInFlight un-acked messages and resumes once acks come back', async () => {
    const { config, producer } = await setup({ maxInFlight: 50, consumeBatchSize: 10 });
    producers.push(producer);
    const posts = makePosts(300);
    await new KafkaSink(producer, config.rawTopic, postCodec('avro'), false).write(posts);
    const src = await source(config);
    const it = src.batches(new AbortController().signal)[Symbol.asyncIterator]();
    const held = await take(it, 50);
    assert.equal(
      src.inFlight,
      held.reduce((n, b) => n + b.items.length, 0),
    );
    const pending = it.next();
    const early = await Promise.race([pending.then(() => 'more'), new Promise((r) => setTimeout(() => r('blocked'), 1500))]);
    assert.equal(early, 'blocked', 'no more batches while 50 messages are un-acked');
    assert.ok(src.paused, 'partitions paused');
    const group = { group: config.analyzeGroup };
    assert.equal(await metricSum('crowdpulse_kafka_paused_partitions', group), config.partitions);
    // Nothing committed yet: the lag (from librdkafka statistics) is the whole backlog.
    await eventually('consumer lag = 300', async () => (await metricSum('crowdpulse_kafka_consumer_lag_messages', group)) === 300);
    for (const b of held) b.ack();
    const next = await pending;
    assert.ok(!next.done && next.value.items.length > 0, 'consumption resumes after the acks');
    assert.ok(!src.paused);
    next.value.ack();
    await take(it, 300 - 50 - next.value.items.length, { ack: true });
    // Everything acked: the commits bring the lag to zero (a pending pull keeps the consumer polling).
    const idle = it.next();
    await eventually('consumer lag = 0', async () => (await metricSum('crowdpulse_kafka_consumer_lag_messages', group)) === 0);
    assert.ok((await metricSum('crowdpulse_kafka_commits_total', { ...group, result: 'ok' })) > 0);
    assert.equal(await metricSum('crowdpulse_kafka_paused_partitions', group), 0);
    await src.close();
    assert.equal((await idle).done, true, 'the source ends once closed');
  });

  it('sends bad bytes, an unknown schema version and a missing header to the dead-letter topic, and the stream goes on', async () => {
    const { config, producer } = await setup({ partitions: 1 });
    producers.push(producer);
    const good = makePosts(20);
    const codec = postCodec('avro');
    const enc = (p: Post) => codec.encode(p);
    const poison: OutgoingMessage[] = [
      { topic: config.rawTopic, key: 'bad-bytes', value: Buffer.from([0xff, 0x00, 0x13, 0x37]), headers: enc(good[0]!).headers },
      { topic: config.rawTopic, key: 'future', value: enc(good[1]!).value, headers: [{ [SCHEMA_HEADER]: 'post.v9' }, { [ENCODING_HEADER]: 'avro' }] },
      { topic: config.rawTopic, key: 'no-header', value: Buffer.from('{"id":"1"}'), headers: [] },
    ];
    await producer.send([
      ...good.slice(0, 10).map((p) => ({ topic: config.rawTopic, key: p.id, ...enc(p) })),
      ...poison,
      ...good.slice(10).map((p) => ({ topic: config.rawTopic, key: p.id, ...enc(p) })),
    ]);

    const deadLetters = new KafkaDeadLetterSink(producer, config.deadLetterTopic);
    const src = track(
      await KafkaSource.connect({ config, role: 'test', group: config.analyzeGroup, topic: config.rawTopic, codec, deadLetters, stage: 'analyze' }),
    );
    const batches = await take(src.batches(new AbortController().signal)[Symbol.asyncIterator](), 20);
    assert.deepEqual(
      batches.flatMap((b) => b.items.map((p) => p.id)),
      good.map((p) => p.id),
    );
    for (const b of batches) b.ack();
    await src.close();

    const letters = await readTopic(config.deadLetterTopic, 3);
    assert.equal(letters.length, 3);
    const byOrigin = new Map(letters.map((m) => [headerValue(m.headers, DEAD_LETTER_HEADERS.origin), m]));
    const at = (offset: number) => byOrigin.get(`kafka:${config.rawTopic}/0@${offset}`)!;
    assert.equal(headerValue(at(10).headers, DEAD_LETTER_HEADERS.code), 'decode_failed');
    assert.deepEqual(at(10).value, Buffer.from([0xff, 0x00, 0x13, 0x37]), 'original bytes kept');
    assert.equal(headerValue(at(11).headers, DEAD_LETTER_HEADERS.code), 'unknown_version');
    assert.match(headerValue(at(11).headers, DEAD_LETTER_HEADERS.reason) ?? '', /post\.v9/);
    assert.equal(headerValue(at(12).headers, DEAD_LETTER_HEADERS.code), 'unknown_version');
    assert.equal(headerValue(at(12).headers, DEAD_LETTER_HEADERS.stage), 'analyze');
  });
});
