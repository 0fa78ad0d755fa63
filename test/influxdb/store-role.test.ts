/**
 * `crowdpulse store --sink influxdb` as its own process: consumes the scored-posts topic of a real
 * broker into a real InfluxDB, two replicas in one consumer group, and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { ScoredPost } from '../../src/contract/index.js';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { scoredPostCodec } from '../../src/kafka/codec.js';
import { KafkaProducer } from '../../src/kafka/producer.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink.js';
import { ROOT, tempDir } from '../helpers.js';
import { brokerUp, deleteTestTopics, kafkaEnv, testKafkaConfig } from '../kafka/broker.js';
import { scoredPost, testDatabase } from './server.js';

const POSTS = 8000;

test('crowdpulse store --sink influxdb (two replicas) stores every scored post once', { timeout: 300_000 }, async (t) => {
  const skip = await brokerUp();
  if (skip) {
    t.skip(skip);
    return;
  }
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const kafka = testKafkaConfig({ partitions: 4 });
  await ensureTopics(kafka, crowdpulseTopics(kafka));
  const producer = await KafkaProducer.connect(kafka, 'test');
  const t0 = Date.UTC(2026, 10, 26, 7);
  const posts: ScoredPost[] = Array.from({ length: POSTS }, (_, i) =>
    scoredPost(t0 + i * 3, i % 4096, { topics: i % 2 === 0 ? ['markets', 'climate'] : ['sport'] }),
  );
  const toKafka = new KafkaSink(producer, kafka.scoredTopic, scoredPostCodec(kafka.encoding), true);
  await toKafka.write(posts);
  await toKafka.close();

  const dir = tempDir('influx-store-role');
  const env = {
    ...process.env,
    ...kafkaEnv(kafka),
    ...db.env(),
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
  };
  const replicas: { child: ChildProcess; exit: Promise<number | null>; stderr: string[] }[] = [];
  for (let r = 0; r < 2; r++) {
    const child = spawn(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'store', '--sink', 'influxdb', '--port', '0'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr: string[] = [];
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    replicas.push({ child, stderr, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) });
  }
  t.after(() => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  const query = new InfluxQuery(db.config());
  t.after(() => query.close());
  // Last (hooks run in the order they were added): the topics go once nothing reads them.
  t.after(() => deleteTestTopics());
  const expectedPoints = POSTS * 1.5;
  const deadline = Date.now() + 120_000;
  let stored = 0;
  while (Date.now() < deadline) {
    const integrity = await query.integrity();
    stored = [...integrity.rowsPerTopic.values()].reduce((a, b) => a + b, 0);
    if (stored >= expectedPoints) break;
    await sleep(500);
  }
  assert.equal(stored, expectedPoints, replicas.map((r) => r.stderr.join('').slice(-1500)).join('\n---\n'));
  for (const r of replicas) r.child.kill('SIGTERM');
  const codes = await Promise.all(replicas.map((r) => r.exit));
  assert.deepEqual(codes, [0, 0], replicas.map((r) => r.stderr.join('').slice(-1500)).join('\n---\n'));

  const integrity = await query.integrity();
  assert.equal(integrity.distinctPosts, POSTS);
  assert.equal(integrity.duplicateKeys, 0);
  assert.deepEqual(Object.fromEntries(integrity.rowsPerTopic), { climate: POSTS / 2, markets: POSTS / 2, sport: POSTS / 2 });
});
