/**
 * Test helpers: the real broker (started through scripts/kafka.sh), per-test topic names and
 * config, and a raw reader for asserting what landed on a topic.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { kafkaSection, type KafkaConfig } from '../../src/config/sections/kafka.js';
import { AdminClient, KafkaConsumer, Producer, type LibrdKafkaError, type Message } from '../../src/kafka/rdkafka.js';

const run = promisify(execFile);
export const SCRIPT = new URL('../../scripts/kafka.sh', import.meta.url).pathname;
export const BOOTSTRAP = `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`;

/** Whether a command is on the PATH. */
export const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts the broker (idempotent). Returns a skip message on a dev machine without Java/Maven;
 * in CI (CI=true) a broker that cannot start is a failure (throws).
 */
export async function brokerUp(): Promise<string | undefined> {
  if (process.env.CI !== 'true' && (!has('java') || !has('mvn'))) {
    return 'Kafka tests need java >= 17 and maven (apt-get install openjdk-17-jre-headless maven), then: bash scripts/kafka.sh up';
  }
  await run('bash', [SCRIPT, 'up'], { timeout: 300_000 });
  return undefined;
}

export async function brokerDown(): Promise<void> {
  await run('bash', [SCRIPT, 'down'], { timeout: 120_000 });
}

const created: KafkaConfig[] = [];

/** Deletes the topics of every config made by testKafkaConfig in this file (keeps the dev broker small). */
export async function deleteTestTopics(): Promise<void> {
  const admin = AdminClient.create({ 'metadata.broker.list': BOOTSTRAP });
  try {
    for (const c of created.splice(0)) {
      for (const topic of [c.rawTopic, c.scoredTopic, c.deadLetterTopic]) {
        await new Promise<void>((resolve) => admin.deleteTopic(topic, 10000, () => resolve()));
      }
    }
  } finally {
    admin.disconnect();
  }
}

/** A config whose topics and groups belong to this test only. */
export function testKafkaConfig(overrides: Partial<KafkaConfig> = {}): KafkaConfig {
  const id = randomBytes(4).toString('hex');
  const config = kafkaSection.parse({
    brokers: BOOTSTRAP,
    rawTopic: `t-${id}.raw`,
    scoredTopic: `t-${id}.scored`,
    deadLetterTopic: `t-${id}.dead`,
    analyzeGroup: `t-${id}-analyze`,
    storeGroup: `t-${id}-store`,
    sessionTimeoutMs: 6000,
    statsIntervalMs: 500,
    commitIntervalMs: 200,
    ...overrides,
  });
  created.push(config);
  return config;
}

/** Environment variables that give a role process the same config. */
export function kafkaEnv(config: KafkaConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    env[`CROWDPULSE_KAFKA_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`] = String(value);
  }
  return env;
}

/** node-rdkafka's callbacks pass a LibrdKafkaError: an Error at runtime (util.inherits(LibrdKafkaError, Error)), typed as a plain interface. */
const asError = (e: LibrdKafkaError): Error => e as unknown as Error;

/** Reads every message of a topic from the beginning (own throwaway group) until `expected` arrived or `timeoutMs` passed. */
export async function readTopic(topic: string, expected: number, timeoutMs = 30000): Promise<Message[]> {
  const consumer = new KafkaConsumer(
    { 'metadata.broker.list': BOOTSTRAP, 'group.id': `reader-${randomBytes(4).toString('hex')}`, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10000 }, (e) => (e ? reject(asError(e)) : resolve())));
  consumer.subscribe([topic]);
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (out.length < expected && Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve) => consumer.consume(500, (e, m) => resolve(e ? [] : m)));
      out.push(...batch);
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return out;
}

/** Messages a topic holds (sum over its partitions of high − low watermark), from the broker. */
export async function topicMessageCount(topic: string, partitions: number): Promise<number> {
  const client = new Producer({ 'metadata.broker.list': BOOTSTRAP });
  await new Promise<void>((resolve, reject) => client.connect({ timeout: 10000 }, (e) => (e ? reject(asError(e)) : resolve())));
  try {
    let n = 0;
    for (let p = 0; p < partitions; p++) {
      n += await new Promise<number>((resolve, reject) => {
        client.queryWatermarkOffsets(topic, p, 10000, (e, w) => (e ? reject(asError(e)) : resolve(w.highOffset - w.lowOffset)));
      });
    }
    return n;
  } finally {
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  }
}
