/**
 * Issue #11, hostile input and faults, Kafka side: oversized records (#11.1), a consumer that
 * subscribes before its topic exists (#11.2), stable dead-letter keys (#11.12), and every role
 * exiting 0 with its summary line. Against the real broker (scripts/kafka.sh).
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { KafkaConfig } from '../../src/config/sections/kafka.js';
import { deadLetter, deadLetterKey, oversizedDeadLetter, oversizedOf, type DeadLetter, type Post } from '../../src/contract/index.js';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { DEFAULT_LIMITS, consumerSettings, kafkaMaxMessageBytes, producerSettings } from '../../src/kafka/client-config.js';
import { headerValue, postCodec, scoredPostCodec } from '../../src/kafka/codec.js';
import { KafkaProducer } from '../../src/kafka/producer.js';
import { formatDeadLetters } from '../../src/roles/summary.js';
import { DEAD_LETTER_HEADERS, KafkaDeadLetterSink, boundedDeadLetter } from '../../src/sinks/kafka/kafka-dead-letter-sink.js';
import { KafkaSink } from '../../src/sinks/kafka/kafka-sink.js';
import { MemoryDeadLetters, tempDir } from '../helpers.js';
import { brokerUp, deleteTestTopics, readTopic, testKafkaConfig, topicMessageCount } from './broker.js';
import { makePosts, makeScoredPosts, streamLine } from './posts.js';
import { roleEnv, sleep, startRole, stopAll, storedRows, waitFor, type RoleProcess } from './roles.js';

const skip = await brokerUp();
if (skip) console.log(`# skipping Kafka hardening tests: ${skip}`);

const dir = tempDir('kafka-hardening');
const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const header = (m: { headers?: Parameters<typeof headerValue>[0] }, name: string): string | undefined => headerValue(m.headers, name);

const producers: KafkaProducer[] = [];
async function setup(overrides: Partial<KafkaConfig> = {}, limits = DEFAULT_LIMITS): Promise<{ config: KafkaConfig; producer: KafkaProducer }> {
  const config = testKafkaConfig(overrides);
  await ensureTopics(config, crowdpulseTopics(config), limits);
  const producer = await KafkaProducer.connect(config, 'test');
  producers.push(producer);
  return { config, producer };
}

const running: RoleProcess[] = [];
const start = (...args: Parameters<typeof startRole>): RoleProcess => {
  const r = startRole(...args);
  running.push(r);
  return r;
};

/** A valid post whose text is about `bytes` long (repetitive: it compresses to almost nothing). */
const hugePost = (id: string, bytes: number): Post => ({
  ...makePosts(1, 999)[0]!,
  id,
  text: 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes),
});

describe('#11 hostile-input and fault hardening, Kafka side (real broker)', { skip }, () => {
  after(async () => {
    await stopAll(running);
    for (const p of producers) await p.close();
    await deleteTestTopics();
    rmSync(dir, { recursive: true, force: true });
  });

  it('#11.1 producer message.max.bytes and the topics crowdpulse creates derive from limits.maxMessageBytes (+64 KiB headroom)', () => {
    const config = testKafkaConfig();
    assert.equal(kafkaMaxMessageBytes(DEFAULT_LIMITS), MiB + 64 * 1024);
    assert.equal(producerSettings(config, 'x')['message.max.bytes'], MiB + 64 * 1024);
    assert.equal(producerSettings(config, 'x', { maxMessageBytes: 8 * MiB, deadLetterSnippetBytes: 4096 })['message.max.bytes'], 8 * MiB + 64 * 1024);
    assert.equal(kafkaMaxMessageBytes({ maxMessageBytes: 2_000_000_000, deadLetterSnippetBytes: 1 }), 1_000_000_000, "capped at librdkafka's maximum");
  });

  it('#11.1 an oversized post is dead-lettered, ingest exits 0', async () => {
    const config = testKafkaConfig();
    const file = join(dir, 'oversized.ndjson');
    const lines = makePosts(300).map((p) => streamLine(p.id, p.text));
    const bigPost = streamLine('1999999999999999001', 'lorem ipsum dolor sit amet '.repeat(Math.ceil((2 * MiB) / 27)));
    const garbage = `{"garbage": ${'x!'.repeat(MiB)}`;
    lines.splice(100, 0, bigPost);
    lines.splice(200, 0, garbage);
    writeFileSync(file, lines.join('\n') + '\n');

    const ingest = start('oversized-ingest', ['ingest', '--input', file], roleEnv(config, join(dir, 'unused.db')), dir);
    assert.equal(await ingest.exited, 0, `ingest exits 0 (log ${ingest.log})`);
    assert.match(
      ingest.stdout(),
      new RegExp(`^ingest: 300 posts produced to ${config.rawTopic.replace('.', '\\.')}, 2 dead letters \\(oversized: 2\\), [\\d.]+ s\\n$`),
    );

    assert.equal((await readTopic(config.rawTopic, 300)).length, 300);
    assert.equal(await topicMessageCount(config.rawTopic, config.partitions), 300, 'the raw topic holds the 300 ordinary posts, nothing else');
    const letters = await readTopic(config.deadLetterTopic, 2);
    assert.equal(await topicMessageCount(config.deadLetterTopic, config.partitions), 2);
    for (const m of letters) {
      assert.equal(header(m, DEAD_LETTER_HEADERS.code), 'oversized');
      assert.equal(header(m, DEAD_LETTER_HEADERS.stage), 'ingest');
      assert.ok((m.value?.length ?? Infinity) <= 4096, `value of ${m.value?.length} bytes`);
      assert.ok(Number(header(m, DEAD_LETTER_HEADERS.length)) > MiB, 'cp-dl-length: the whole length');
      assert.match(header(m, DEAD_LETTER_HEADERS.sha256) ?? '', /^[0-9a-f]{64}$/);
    }
    const garbageLetter = letters.find((m) => header(m, DEAD_LETTER_HEADERS.sha256) === sha256(garbage));
    assert.ok(garbageLetter, 'the garbage line: cp-dl-sha256 is the SHA-256 of the whole line');
    assert.equal(Number(header(garbageLetter, DEAD_LETTER_HEADERS.length)), Buffer.byteLength(garbage));
    assert.deepEqual(garbageLetter.value, Buffer.from(garbage).subarray(0, 4096), 'its first 4096 bytes kept');
  });

  it('#11.1 KafkaSink dead-letters an item whose record exceeds limits.maxMessageBytes instead of producing it', async () => {
    const { config, producer } = await setup();
    const dead = new MemoryDeadLetters();
    const sink = new KafkaSink(producer, config.rawTopic, postCodec('avro'), false, { deadLetters: dead, stage: 'ingest' });
    const posts = makePosts(20);
    const huge = hugePost('1999999999999999002', 2 * MiB);
    await sink.write([...posts.slice(0, 10), huge, ...posts.slice(10)]);
    assert.equal(dead.letters.length, 1);
    const [l] = dead.letters as [DeadLetter];
    const encoded = postCodec('avro').encode(huge).value;
    assert.equal(l.code, 'oversized');
    assert.equal(l.stage, 'ingest');
    assert.equal(l.origin, `post:${huge.id}`);
    assert.equal(l.original.length, DEFAULT_LIMITS.deadLetterSnippetBytes);
    assert.deepEqual(l.truncated, { length: encoded.length, sha256: sha256(encoded) });
    assert.equal(await topicMessageCount(config.rawTopic, config.partitions), 20, 'the other 20 produced');

    // A tiny limits.maxMessageBytes: every record over 300 bytes is a dead letter of 64 bytes.
    const tiny = { maxMessageBytes: 300, deadLetterSnippetBytes: 64 };
    const small = new MemoryDeadLetters();
    const longer = makePosts(5, 100).map((p) => ({ ...p, text: `${p.text} ${'y'.repeat(400)}` }));
    await new KafkaSink(producer, config.rawTopic, postCodec('avro'), false, { deadLetters: small, stage: 'analyze', limits: tiny }).write([
      ...makePosts(10, 50),
      ...longer,
    ]);
    assert.deepEqual(small.letters.map((x) => x.origin).sort(), longer.map((p) => `post:${p.id}`).sort());
    assert.ok(small.letters.every((x) => x.code === 'oversized' && x.stage === 'analyze' && x.original.length === 64 && (x.truncated?.length ?? 0) > 300));
    assert.equal(await topicMessageCount(config.rawTopic, config.partitions), 30);

    // Without a dead-letter sink such a batch is not durable: write rejects, naming the limit.
    await assert.rejects(new KafkaSink(producer, config.rawTopic, postCodec('avro'), false, { limits: tiny }).write(longer), /limits\.maxMessageBytes = 300/);
  });

  it('#11.1 a record the broker refuses as too large (ERR_MSG_SIZE_TOO_LARGE) becomes an oversized dead letter; the rest of its batch is delivered', async () => {
    // Topics that accept at most 1000 + 64 KiB, a producer and sink at the default 1 MiB, no compression:
    // a 200 KB incompressible post passes the sink's own check and is refused by the broker.
    const { config, producer } = await setup({ partitions: 1, compression: 'none' }, { maxMessageBytes: 1000, deadLetterSnippetBytes: 4096 });
    const dead = new MemoryDeadLetters();
    const sink = new KafkaSink(producer, config.rawTopic, postCodec('json'), false, { deadLetters: dead, stage: 'analyze' });
    const posts = makePosts(30);
    const big: Post = { ...hugePost('1999999999999999003', 10), text: randomBytes(150 * 1024).toString('base64') };
    await sink.write([...posts.slice(0, 15), big, ...posts.slice(15)]);
    assert.equal(dead.letters.length, 1, `dead letters: ${dead.letters.map((x) => x.origin).join(', ')}`);
    const [l] = dead.letters as [DeadLetter];
    assert.equal(l.code, 'oversized');
    assert.equal(l.origin, `post:${big.id}`);
    assert.match(l.reason, /refused by the producer or broker: .*too large/i);
    assert.equal(l.original.length, 4096);
    assert.equal(await topicMessageCount(config.rawTopic, 1), 30, 'the 30 posts that shared its batch are delivered (each produced again alone)');
  });

  it('#11.1 KafkaDeadLetterSink never writes a value over the limit; truncated letters carry cp-dl-length and cp-dl-sha256', async () => {
    const { config, producer } = await setup({ partitions: 1 });
    const big = Buffer.from(`{"not json ${'z'.repeat(2 * MiB)}`);
    const letters = [
      deadLetter('ingest', 'invalid_json', 'not JSON: Unexpected token', big, 'posts.ndjson:7'),
      oversizedDeadLetter('ingest', oversizedOf(big, 4096), MiB, 'posts.ndjson:8'),
      deadLetter('analyze', 'decode_failed', 'post.v1+avro: truncated', Buffer.from([1, 2, 3]), 'kafka:raw/0@5'),
    ];
    await new KafkaDeadLetterSink(producer, config.deadLetterTopic).write(letters);
    const got = await readTopic(config.deadLetterTopic, 3);
    const at = (origin: string) => got.find((m) => header(m, DEAD_LETTER_HEADERS.origin) === origin)!;
    for (const origin of ['posts.ndjson:7', 'posts.ndjson:8']) {
      const m = at(origin);
      assert.equal(header(m, DEAD_LETTER_HEADERS.code), 'oversized');
      assert.deepEqual(m.value, big.subarray(0, 4096));
      assert.equal(header(m, DEAD_LETTER_HEADERS.length), String(big.length));
      assert.equal(header(m, DEAD_LETTER_HEADERS.sha256), sha256(big));
    }
    assert.match(header(at('posts.ndjson:7'), DEAD_LETTER_HEADERS.reason) ?? '', /refused first as invalid_json: not JSON/);
    const small = at('kafka:raw/0@5');
    assert.deepEqual(small.value, Buffer.from([1, 2, 3]), 'a small original is kept whole');
    assert.equal(header(small, DEAD_LETTER_HEADERS.length), undefined);
    assert.equal(header(small, DEAD_LETTER_HEADERS.sha256), undefined);
  });

  it('#11.12 dead letters of the same input have the same key on every run (Kafka side)', async () => {
    const { config, producer } = await setup({ partitions: 3 });
    const big = Buffer.from('q'.repeat(MiB + 10));
    const input = (): DeadLetter[] => [
      deadLetter('ingest', 'invalid_json', 'not JSON', '{"id":', 'posts.ndjson:3'),
      deadLetter('ingest', 'invalid_shape', 'data.id: must be a decimal post id', '{"data":{"id":"x"}}', 'posts.ndjson:9'),
      deadLetter('analyze', 'decode_failed', 'bad bytes', Buffer.from([0xde, 0xad]), 'kafka:raw/2@17'),
      deadLetter('ingest', 'invalid_json', 'not JSON', big, 'posts.ndjson:12'),
    ];
    const first = input();
    await new KafkaDeadLetterSink(producer, config.deadLetterTopic).write(first);
    await sleep(20);
    // The rerun: a new process (producer), new letters with other timestamps.
    const rerun = await KafkaProducer.connect(config, 'test-rerun');
    producers.push(rerun);
    const second = input();
    await new KafkaDeadLetterSink(rerun, config.deadLetterTopic).write(second);

    const got = await readTopic(config.deadLetterTopic, 8);
    assert.equal(got.length, 8);
    const byKey = new Map<string, number>();
    for (const m of got) byKey.set(String(m.key), (byKey.get(String(m.key)) ?? 0) + 1);
    assert.equal(byKey.size, 4, 'four distinct letters, four keys');
    assert.ok(
      [...byKey.values()].every((n) => n === 2),
      'each key once per run',
    );
    for (const m of got) assert.match(String(m.key), /^[0-9a-f]{64}$/);

    // The id: (stage, origin, code, SHA-256 of the whole original); time and wording do not count.
    const l = first[0]!;
    assert.equal(deadLetterKey({ ...l, at: 1, reason: 'other words' }), deadLetterKey(l));
    assert.notEqual(deadLetterKey({ ...l, origin: 'posts.ndjson:4' }), deadLetterKey(l));
    assert.notEqual(deadLetterKey({ ...l, stage: 'analyze' }), deadLetterKey(l));
    assert.notEqual(deadLetterKey({ ...l, code: 'invalid_shape' }), deadLetterKey(l));
    assert.notEqual(deadLetterKey({ ...l, original: Buffer.from('{"id":1') }), deadLetterKey(l));
    assert.equal(
      deadLetterKey(deadLetter('ingest', 'invalid_json', 'x', '{"id":')),
      deadLetterKey(deadLetter('ingest', 'invalid_json', 'y', '{"id":')),
      'no origin: still stable',
    );
    // An oversized message has the same key whether its source or the dead-letter sink truncated it.
    const bySource = oversizedDeadLetter('ingest', oversizedOf(big, 4096), MiB, 'posts.ndjson:12');
    assert.equal(deadLetterKey(boundedDeadLetter(second[3]!, DEFAULT_LIMITS)), deadLetterKey(bySource));
    assert.equal(deadLetterKey(bySource), deadLetterKey(oversizedDeadLetter('ingest', oversizedOf(big, 100), MiB, 'posts.ndjson:12')), 'however much was kept');
  });

  it('#11.2 a store subscribed before its topic exists picks it up once created: rows arrive and /readyz turns 200 within 30 s', async () => {
    // metadataRefreshMs is the default (5000): the role's environment sets every other key of the test config.
    const config = testKafkaConfig({ createTopics: false });
    assert.equal(config.metadataRefreshMs, 5000);
    assert.equal(consumerSettings(config, 'store', 'g')['topic.metadata.refresh.interval.ms'], 5000);
    assert.equal(producerSettings(config, 'store')['topic.metadata.refresh.interval.ms'], 5000);
    // A client left with no known broker bootstraps again after 10 s (librdkafka: 5 min).
    assert.equal(consumerSettings(config, 'store', 'g')['metadata.recovery.rebootstrap.trigger.ms'], 10000);
    assert.equal(producerSettings(config, 'store')['metadata.recovery.rebootstrap.trigger.ms'], 10000);
    const db = join(dir, 'late-topic.db');
    const store = start('late-topic-store', ['store'], roleEnv(config, db), dir);
    const url = await store.url;
    const readyz = async (): Promise<number | undefined> => (await fetch(`${url}/readyz`).catch(() => undefined))?.status;
    await sleep(4000);
    assert.equal(await readyz(), 503, 'not ready while its topic does not exist');
    assert.equal(store.child.exitCode, null, 'and still running');

    const created = Date.now();
    await ensureTopics(config, crowdpulseTopics(config));
    const producer = await KafkaProducer.connect(config, 'test');
    producers.push(producer);
    const posts = makeScoredPosts(200);
    await new KafkaSink(producer, config.scoredTopic, scoredPostCodec('avro'), false).write(posts);
    const rows = posts.reduce((n, p) => n + p.topics.length, 0);
    await waitFor(`${rows} rows stored`, () => storedRows(db).rows === rows, 30_000);
    await waitFor('/readyz 200', async () => (await readyz()) === 200, Math.max(1000, 30_000 - (Date.now() - created)));
    const seconds = (Date.now() - created) / 1000;
    console.log(`# #11.2: topics created → ${rows} rows stored and /readyz 200 in ${seconds.toFixed(1)} s`);
    assert.ok(seconds < 30, `${seconds} s`);

    store.kill('SIGTERM');
    assert.equal(await store.exited, 0);
    assert.match(store.stdout(), /^store: 200 posts stored in SQLite .*late-topic\.db.*, 0 dead letters, [\d.]+ s\n$/);
  });

  it('#11 every process exits 0 with its summary: analyze and store print one line after SIGTERM', async () => {
    assert.equal(formatDeadLetters(new Map()), '0 dead letters');
    assert.equal(
      formatDeadLetters(
        new Map([
          ['oversized', 2],
          ['invalid_json', 1],
        ]),
      ),
      '3 dead letters (invalid_json: 1, oversized: 2)',
    );
    const config = testKafkaConfig({ partitions: 2 });
    const db = join(dir, 'summaries.db');
    const env = roleEnv(config, db);
    const file = join(dir, 'summaries.ndjson');
    const posts = makePosts(40, 500);
    writeFileSync(file, [...posts.map((p) => streamLine(p.id, p.text)), '{"data": not json'].join('\n') + '\n');
    const store = start('sum-store', ['store'], env, dir);
    const analyze = start('sum-analyze', ['analyze'], env, dir);
    const ingest = start('sum-ingest', ['ingest', '--input', file], env, dir);
    assert.equal(await ingest.exited, 0, `ingest exits 0 (log ${ingest.log})`);
    assert.match(
      ingest.stdout(),
      new RegExp(`^ingest: 40 posts produced to ${config.rawTopic.replace('.', '\\.')}, 1 dead letters \\(invalid_json: 1\\), [\\d.]+ s\\n$`),
    );
    await waitFor('40 rows stored', () => storedRows(db).rows === 40, 120_000);

    analyze.kill('SIGTERM');
    store.kill('SIGTERM');
    assert.equal(await analyze.exited, 0, `analyze exits 0 (log ${analyze.log})`);
    assert.equal(await store.exited, 0, `store exits 0 (log ${store.log})`);
    assert.match(analyze.stdout(), new RegExp(`^analyze: 40 posts scored to ${config.scoredTopic.replace('.', '\\.')}, 0 dead letters, [\\d.]+ s\\n$`));
    assert.match(store.stdout(), /^store: 40 posts stored in SQLite .*summaries\.db \(table post_sentiment\), 0 dead letters, [\d.]+ s\n$/);
  });

  it("#11 a role refused at start exits with its code's status (CP_USAGE: 2), one error line and no summary", async () => {
    const config = testKafkaConfig();
    const store = start('fail-store', ['store'], roleEnv(config, join(dir, 'x.db'), { CROWDPULSE_SINK_KIND: 'kafka' }), dir);
    assert.equal(await store.exited, 2);
    assert.equal(store.stdout(), '', 'no summary on failure');
    const errors = readFileSync(store.log, 'utf8')
      .split('\n')
      .filter((l) => / ERROR /.test(l));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0] ?? '', /\(CP_USAGE\)$/);
  });
});
