import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { ENCODING_HEADER, SCHEMA_HEADER, headerValue, postCodec } from '../../src/kafka/codec.js';
import { KafkaProducer } from '../../src/kafka/producer.js';
import { DEAD_LETTER_HEADERS } from '../../src/sinks/kafka/kafka-dead-letter-sink.js';
import { tempDir } from '../helpers.js';
import { brokerDown, brokerUp, deleteTestTopics, readTopic, testKafkaConfig } from './broker.js';
import { makePosts } from './posts.js';
import {
  FIXTURE,
  assertExactlyStored,
  expectedPairs,
  expectedPosts,
  librdkafkaTails,
  logTails,
  metricsSnapshot,
  metric,
  roleEnv,
  sleep,
  startRole,
  stopAll,
  storedRows,
  waitFor,
  type RoleProcess,
} from './roles.js';

const skip = await brokerUp();
if (skip) console.log(`# skipping Kafka role tests: ${skip}`);

const dir = tempDir('kafka-roles');
const running: RoleProcess[] = [];
const start = (...args: Parameters<typeof startRole>): RoleProcess => {
  const r = startRole(...args);
  running.push(r);
  return r;
};
/** Lines of the fixture each test ingests (a few thousand: the suite must stay quick on 2 cores). */
const LINES = 3000;
const STORE_TIMEOUT = 120_000;
/**
 * A run may leave out a test it names in CROWDPULSE_TEST_EXCLUDE (comma-separated ids), with the
 * reason printed as the skip: only scripts/image.sh test does, on Node 24 (see the README, Tests
 * on Node 24). The Node 20 pass runs everything.
 */
const excluded = (id: string): string | false =>
  (process.env.CROWDPULSE_TEST_EXCLUDE ?? '').split(',').includes(id) ? `left out of this run by CROWDPULSE_TEST_EXCLUDE=${id}` : false;

describe('crowdpulse ingest | analyze | store as separate processes over Kafka (real broker)', { skip }, () => {
  after(async () => {
    await stopAll(running);
    // A test that stopped the broker must not leave it down for the next file.
    if (!skip) {
      await brokerUp();
      await deleteTestTopics();
    }
  });

  it('stores every ingested post exactly once per topic; poisoned raw messages go to the dead-letter topic and the stream goes on', async () => {
    const config = testKafkaConfig();
    const db = join(dir, 'e2e.db');
    const env = roleEnv(config, db);
    const store = start('e2e-store', ['store'], env, dir);
    const analyze = start('e2e-analyze', ['analyze'], env, dir);
    await waitFor(
      'analyze ready (/readyz: model, group joined, broker up)',
      async () => (await fetch(`${await analyze.url}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
    );

    const ingest = start('e2e-ingest', ['ingest', '--input', FIXTURE, '--limit', String(LINES)], env, dir);
    assert.equal(await ingest.exited, 0, `ingest exits 0 at the end of the replay (log ${ingest.log})`);

    // Poison straight into the raw topic, between valid posts: bad bytes, an unknown version, no headers.
    const producer = await KafkaProducer.connect(config, 'test');
    const codec = postCodec('avro');
    const extra = makePosts(5);
    const good = extra.map((p) => ({ topic: config.rawTopic, key: p.id, ...codec.encode(p) }));
    await producer.send([
      good[0]!,
      { topic: config.rawTopic, key: 'bad-bytes', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]), headers: codec.encode(extra[0]!).headers },
      good[1]!,
      { topic: config.rawTopic, key: 'future', value: codec.encode(extra[2]!).value, headers: [{ [SCHEMA_HEADER]: 'post.v9' }, { [ENCODING_HEADER]: 'avro' }] },
      { topic: config.rawTopic, key: 'bare', value: Buffer.from('not even json'), headers: [] },
      ...good.slice(2),
    ]);
    await producer.close();

    const expected = expectedPairs(LINES);
    for (const p of extra) for (const t of p.topics) expected.add(`${p.id}\t${t}`);
    await assertExactlyStored(db, expected, STORE_TIMEOUT);

    // Dead letters: the fixture's planted bad lines (from ingest) and the three poisoned messages (from analyze).
    const letters = await readTopic(config.deadLetterTopic, 5);
    const byStage = (stage: string) => letters.filter((m) => headerValue(m.headers, DEAD_LETTER_HEADERS.stage) === stage);
    assert.deepEqual(
      byStage('ingest')
        .map((m) => headerValue(m.headers, DEAD_LETTER_HEADERS.code))
        .sort(),
      ['invalid_json', 'invalid_shape'],
    );
    assert.deepEqual(
      byStage('analyze')
        .map((m) => headerValue(m.headers, DEAD_LETTER_HEADERS.code))
        .sort(),
      ['decode_failed', 'unknown_version', 'unknown_version'],
    );
    assert.ok(byStage('analyze').every((m) => (headerValue(m.headers, DEAD_LETTER_HEADERS.origin) ?? '').startsWith(`kafka:${config.rawTopic}/`)));

    // SIGTERM: each role drains, commits, leaves its group and exits 0 within the bound.
    const t0 = Date.now();
    analyze.kill('SIGTERM');
    store.kill('SIGTERM');
    assert.equal(await analyze.exited, 0);
    assert.equal(await store.exited, 0);
    assert.ok(Date.now() - t0 < config.drainTimeoutMs + 10_000, `exited within the drain bound (${Date.now() - t0} ms)`);
  });

  it('#14.3 --limit ends analyze and store as it ends ingest: each exits 0 by itself once it has read that many messages, all of them stored', async () => {
    const config = testKafkaConfig();
    const db = join(dir, 'limit.db');
    const env = roleEnv(config, db);
    const lines = 600;
    const { posts, pairs } = expectedPosts(lines);
    const ingest = start('limit-ingest', ['ingest', '--input', FIXTURE, '--limit', String(lines)], env, dir);
    assert.equal(await ingest.exited, 0);
    // One raw message per post; analyze scores each into one scored message; store reads exactly those.
    const analyze = start('limit-analyze', ['analyze', '--limit', String(posts)], env, dir);
    const store = start('limit-store', ['store', '--limit', String(posts)], env, dir);
    assert.equal(await analyze.exited, 0, `analyze ends after ${posts} messages (log ${analyze.log})`);
    assert.equal(await store.exited, 0, `store ends after ${posts} messages (log ${store.log})`);
    await assertExactlyStored(db, pairs, 10_000);
  });

  for (const victim of ['analyze', 'store'] as const) {
    it(`kill -9 of ${victim} mid-stream, then a restart: still exactly one row per (post, topic), none missing`, async () => {
      const config = testKafkaConfig();
      const db = join(dir, `kill-${victim}.db`);
      const env = roleEnv(config, db);
      const roles: Record<string, RoleProcess> = {
        store: start(`kill-${victim}-store`, ['store'], env, dir),
        analyze: start(`kill-${victim}-analyze`, ['analyze'], env, dir),
      };
      // Paced ingest, so that the kill lands while posts are still flowing.
      const ingest = start(`kill-${victim}-ingest`, ['ingest', '--input', FIXTURE, '--limit', String(LINES), '--mode', 'rate', '--rate', '400'], env, dir);
      const expected = expectedPairs(LINES);
      await waitFor('some rows stored', () => storedRows(db).rows > expected.size * 0.15, STORE_TIMEOUT);
      roles[victim]!.kill('SIGKILL');
      assert.equal(await roles[victim]!.exited, 'SIGKILL');
      const before = storedRows(db).rows;
      assert.ok(before < expected.size, `killed mid-stream (${before} of ${expected.size} rows stored)`);
      await sleep(1000);
      roles[victim] = start(`kill-${victim}-${victim}-2`, [victim], env, dir);
      assert.equal(await ingest.exited, 0);
      await assertExactlyStored(db, expected, STORE_TIMEOUT);
      await stopAll([roles.store!, roles.analyze!]);
    });
  }

  it('the broker stopped for 10 s mid-stream: nothing lost, the roles recover on their own', { skip: excluded('kafka-broker-outage') }, async () => {
    const config = testKafkaConfig();
    const db = join(dir, 'broker-down.db');
    const env = roleEnv(config, db);
    // librdkafka's consumer-group lines too (kafka.debug = cgrp), so that a role that does not
    // recover shows where its group join stands (the roles' own lines have not told, twice).
    const consumerEnv = { ...env, CROWDPULSE_KAFKA_DEBUG: 'cgrp' };
    const store = start('down-store', ['store'], consumerEnv, dir);
    const analyze = start('down-analyze', ['analyze'], consumerEnv, dir);
    const ingest = start('down-ingest', ['ingest', '--input', FIXTURE, '--limit', String(LINES), '--mode', 'rate', '--rate', '300'], env, dir);
    const expected = expectedPairs(LINES);
    await waitFor('some rows stored', () => storedRows(db).rows > expected.size * 0.15, STORE_TIMEOUT);
    assert.equal(ingest.child.exitCode, null, 'the broker goes down while ingest is still producing');
    await brokerDown();
    const during = storedRows(db).rows;
    await sleep(10_000);
    assert.ok(storedRows(db).rows - during < 2600, 'with the broker down, at most what was already in flight is stored');
    await brokerUp();
    // Bounded: a producer that never reconnects must fail the test, not hang the suite (seen once
    // on Node 24 in the image: ingest's producer stayed "all broker connections are down").
    // On a timeout the message carries each role's last warnings and Kafka state changes, and the
    // metrics of those still running (CI keeps no role logs; earlier failures left too little to read).
    const explain = async (): Promise<string> =>
      [logTails([ingest, analyze, store]), await metricsSnapshot([analyze, store]), librdkafkaTails([analyze, store])].join('\n');
    await waitFor(`ingest to finish after the outage (log ${ingest.log})`, () => ingest.child.exitCode !== null, STORE_TIMEOUT, 250, explain);
    assert.equal(await ingest.exited, 0, `ingest survives the outage and finishes (log ${ingest.log})`);
    await assertExactlyStored(db, expected, STORE_TIMEOUT, explain);
    assert.equal(store.child.exitCode, null, 'store kept running');
    assert.equal(analyze.child.exitCode, null, 'analyze kept running');
    // Each consumer's session timed out in the outage: it drops that lost assignment without a
    // commit (a synchronous one would block its event loop until the coordinator answered or the
    // wait timed out: 7 s here, overlapping the group's rejoin when the broker came back meanwhile).
    for (const role of [analyze, store]) {
      const text = readFileSync(role.log, 'utf8');
      assert.match(
        text,
        /partitions lost while the group coordinator is unreachable: not committing/,
        `${role.name} dropped its lost assignment (log ${role.log})`,
      );
      assert.doesNotMatch(text, /synchronous commit failed/, `${role.name} tried no commit the coordinator could not take (log ${role.log})`);
    }
    await stopAll([store, analyze]);
  });

  it('two analyze replicas share the partitions; stopping one moves its partitions to the other, with no loss', async () => {
    const config = testKafkaConfig({ partitions: 6 });
    await ensureTopics(config, crowdpulseTopics(config));
    const db = join(dir, 'replicas.db');
    const env = roleEnv(config, db);
    const group = { group: config.analyzeGroup };
    const assigned = async (r: RoleProcess) => (await metric(await r.url, 'crowdpulse_kafka_assigned_partitions', group)) ?? 0;
    const store = start('rep-store', ['store'], env, dir);
    const a = start('rep-analyze-a', ['analyze'], env, dir);
    await waitFor('replica A holds all 6 partitions', async () => (await assigned(a)) === 6, 60_000);
    const b = start('rep-analyze-b', ['analyze'], env, dir);
    await waitFor(
      'both replicas hold partitions',
      async () => (await assigned(a)) > 0 && (await assigned(b)) > 0 && (await assigned(a)) + (await assigned(b)) === 6,
      60_000,
    );

    const ingest = start('rep-ingest', ['ingest', '--input', FIXTURE, '--limit', String(LINES), '--mode', 'rate', '--rate', '600'], env, dir);
    const expected = expectedPairs(LINES);
    await waitFor('some rows stored', () => storedRows(db).rows > expected.size * 0.2, STORE_TIMEOUT);
    assert.equal(ingest.child.exitCode, null, 'replica B stops mid-stream');
    b.kill('SIGTERM');
    assert.equal(await b.exited, 0, 'replica B drains and exits 0');
    await waitFor('replica A holds all 6 partitions again', async () => (await assigned(a)) === 6, 60_000);
    assert.equal(await ingest.exited, 0);
    await assertExactlyStored(db, expected, STORE_TIMEOUT);
    await stopAll([store, a]);
  });
});
