/**
 * Kafka produce/consume micro-benchmark through crowdpulse's own transport: the idempotent
 * KafkaProducer (send resolves when the broker acknowledged the batch) and the consumer-group
 * KafkaSource (decode + contract validation, ack per batch), Post messages in the configured
 * encoding, on a fresh topic. CPU per message of each phase: this process (every thread, librdkafka's
 * included; messages are encoded before producing, decoded while consuming) and, given --broker-pid,
 * the broker's (from /proc).
 *   node --import tsx bench/micro/kafka-io.ts --brokers 127.0.0.1:29092 [--messages 20000] [--encoding avro] [--broker-pid N]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { postFromStreamBytes, type Post } from '../../src/contract/index.js';
import { kafkaSection } from '../../src/config/sections/kafka.js';
import { ensureTopics } from '../../src/kafka/admin.js';
import { postCodec } from '../../src/kafka/codec.js';
import { KafkaProducer } from '../../src/kafka/producer.js';
import type { DeadLetterSink } from '../../src/pipeline/component.js';
import { KafkaSource } from '../../src/sources/kafka/kafka-source.js';
import { REPO } from '../lib/child.js';
import { readFixtureLines } from '../lib/expected.js';
import { procSnapshot } from '../lib/proc.js';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string', default: '127.0.0.1:29092' },
    messages: { type: 'string', default: '20000' },
    encoding: { type: 'string', default: 'avro' },
    batch: { type: 'string', default: '256' },
    fixture: { type: 'string', default: 'bench/fixtures/posts.ndjson.gz' },
    'broker-pid': { type: 'string' },
  },
});
const brokerPid = values['broker-pid'] ? Number(values['broker-pid']) : undefined;
/** CPU seconds so far: this process (every thread) and the broker, where its pid was given and /proc reads it. */
const cpuNow = (): { client: number; broker: number | undefined } => {
  const u = process.cpuUsage();
  return { client: (u.user + u.system) / 1e6, broker: brokerPid === undefined ? undefined : procSnapshot(brokerPid)?.cpuSeconds };
};
const cpuPerMessage = (from: ReturnType<typeof cpuNow>, messages: number): { client: number; broker?: number } => {
  const to = cpuNow();
  return {
    client: ((to.client - from.client) * 1e6) / messages,
    ...(from.broker !== undefined && to.broker !== undefined ? { broker: ((to.broker - from.broker) * 1e6) / messages } : {}),
  };
};
const total = Number(values.messages);
const batch = Number(values.batch);
const encoding = values.encoding === 'json' ? 'json' : 'avro';
const id = `bench.io.${Date.now().toString(36)}`;
const config = kafkaSection.parse({ brokers: values.brokers, rawTopic: id, encoding, partitions: 6 });

const posts: Post[] = [];
for (const l of readFixtureLines(join(REPO, values.fixture))) {
  const p = postFromStreamBytes(l, Date.now());
  if (p.ok) posts.push(p.value);
}
const codec = postCodec(encoding);
const messages = Array.from({ length: total }, (_, i) => {
  const p = posts[i % posts.length] as Post;
  const e = codec.encode(p);
  return { topic: id, key: p.id, value: e.value, headers: e.headers };
});

await ensureTopics(config, [id]);
const producer = await KafkaProducer.connect(config, 'bench');
const produceCpu = cpuNow();
const t0 = performance.now();
const inFlight: Promise<void>[] = [];
for (let i = 0; i < messages.length; i += batch) {
  inFlight.push(producer.send(messages.slice(i, i + batch)));
  // Keep a few batches in flight, as the ingest role's sink does with concurrency.
  if (inFlight.length >= 4) await inFlight.shift();
}
await Promise.all(inFlight);
const produceSeconds = (performance.now() - t0) / 1000;
const produceCpuMicros = cpuPerMessage(produceCpu, total);
await producer.close();
process.stderr.write(`produced ${total} in ${produceSeconds.toFixed(2)} s\n`);

const refused: DeadLetterSink = {
  write: async (l) => {
    throw new Error(`${l.length} messages refused`);
  },
  close: async () => undefined,
};
const consumeCpu = cpuNow();
const source = await KafkaSource.connect({ config, role: 'bench', group: `${id}.g`, topic: id, codec, deadLetters: refused, stage: 'analyze' });
const abort = new AbortController();
let consumed = 0;
let t1: number | undefined;
for await (const b of source.batches(abort.signal)) {
  t1 ??= performance.now();
  consumed += b.items.length;
  b.ack();
  if (consumed >= total) break;
}
const consumeSeconds = (performance.now() - (t1 ?? performance.now())) / 1000;
// From connecting to the last batch: the group join's CPU is in it, its waiting is not.
const consumeCpuMicros = cpuPerMessage(consumeCpu, Math.max(1, consumed));
abort.abort();
await source.close();
process.stdout.write(
  JSON.stringify({
    topic: id,
    encoding,
    messages: total,
    batch,
    bytesPerMessage: messages.reduce((a, m) => a + m.value.length, 0) / total,
    producePerSecond: total / produceSeconds,
    consumePerSecond: consumed / Math.max(1e-3, consumeSeconds),
    consumed,
    produceCpuMicros,
    consumeCpuMicros,
    note: 'consume time from the first batch received (group join excluded); CPU in µs per message',
  }) + '\n',
);
