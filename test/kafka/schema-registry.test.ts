/**
 * #16.2 topics that Schema Registry tools can read: kafka.encoding = confluent-avro against a real
 * registry (Apicurio's Confluent-compatible API, scripts/schema-registry.sh) and a real broker.
 * Registration with compatibility, the roles producing the registry format, our KafkaSource reading
 * it (and the header formats beside it), and Confluent's own Python AvroDeserializer decoding the topics.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { KafkaConfig } from '../../src/config/sections/kafka.js';
import type { Post } from '../../src/contract/index.js';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { postCodec } from '../../src/kafka/codec.js';
import { KafkaProducer, type OutgoingMessage } from '../../src/kafka/producer.js';
import { SchemaRegistryClient } from '../../src/kafka/schema-registry.js';
import { KafkaWire, valueSubject } from '../../src/kafka/wire.js';
import { KafkaSource } from '../../src/sources/kafka/kafka-source.js';
import { MemoryDeadLetters, tempDir } from '../helpers.js';
import { brokerUp, deleteTestTopics, readTopic, testKafkaConfig } from './broker.js';
import { makePosts } from './posts.js';
import { REGISTRY_URL, registryUp, standardConsume } from './registry.js';
import { FIXTURE, assertExactlyStored, expectedPosts, roleEnv, startRole, stopAll, type RoleProcess } from './roles.js';

const brokerSkip = await brokerUp();
const registry = brokerSkip ? { skip: brokerSkip } : await registryUp();
const skip = 'skip' in registry ? registry.skip : undefined;
if (skip) console.log(`# skipping Schema Registry tests: ${skip}`);
const python = 'python' in registry ? registry.python : '';

const dir = tempDir('schema-registry');
const running: RoleProcess[] = [];
const client = new SchemaRegistryClient({ url: REGISTRY_URL, username: '', password: '', timeoutMs: 5000, retryMs: 5000 });
const postSchema = JSON.parse(postCodec('avro').avroSchema) as { fields: unknown[] } & Record<string, unknown>;
const withField = (field: Record<string, unknown>): string => JSON.stringify({ ...postSchema, fields: [...postSchema.fields, field] });

/** A record as an Avro reader sees it: createdAt as epoch ms when exact, absent optional fields as null. */
function avroView(record: Record<string, unknown>): Record<string, unknown> {
  const iso = record.createdAt as string;
  const ms = Date.parse(iso);
  return {
    ...record,
    createdAt: new Date(ms).toISOString() === iso ? ms : iso,
    authorId: record.authorId ?? null,
    refKind: record.refKind ?? null,
    refId: record.refId ?? null,
  };
}

const registryConfig = (overrides: Partial<KafkaConfig> = {}): KafkaConfig => testKafkaConfig({ schemaRegistryUrl: REGISTRY_URL, ...overrides });

async function latestId(subject: string): Promise<number> {
  const a = await client.call('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`);
  assert.equal(a.kind === 'http' && a.status, 200, `latest version of ${subject}`);
  return a.kind === 'http' ? (a.body as { id: number }).id : -1;
}

/** Reads `count` messages through a KafkaSource (its own group), acking every batch. */
async function readThroughSource<T>(config: KafkaConfig, codec: KafkaSourceCodec<T>, count: number): Promise<{ items: T[]; letters: MemoryDeadLetters }> {
  const letters = new MemoryDeadLetters();
  const source = await KafkaSource.connect({
    config,
    role: 'test',
    group: `g-${randomBytes(4).toString('hex')}`,
    topic: config.rawTopic,
    codec,
    deadLetters: letters,
    stage: 'analyze',
    limit: count,
  });
  const items: T[] = [];
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 60_000);
  try {
    for await (const batch of source.batches(abort.signal)) {
      items.push(...batch.items);
      batch.ack();
    }
  } finally {
    clearTimeout(timer);
    await source.close();
  }
  return { items, letters };
}
type KafkaSourceCodec<T> = Parameters<typeof KafkaSource.connect<T>>[0]['codec'];

describe('#16.2 Kafka topics in the Schema Registry wire format (real registry, real broker)', { skip }, () => {
  after(async () => {
    await stopAll(running);
    if (!skip) await deleteTestTopics();
    await client.close();
  });

  it('registers under <topic>-value with the compatibility level set; a compatible change is a new version, an incompatible one is refused (CP_SCHEMA_INCOMPATIBLE)', async () => {
    const subject = valueSubject(`t-${randomBytes(4).toString('hex')}.raw`);
    const id = await client.register(subject, postCodec('avro').avroSchema, 'BACKWARD');
    assert.equal(await client.register(subject, postCodec('avro').avroSchema, 'BACKWARD'), id, 'the same schema again: the same id');
    assert.equal(await latestId(subject), id);
    const config = await client.call('GET', `/config/${subject}`);
    assert.equal(config.kind === 'http' && (config.body as { compatibilityLevel?: string }).compatibilityLevel, 'BACKWARD');

    // A nullable field with a default: old data still reads (BACKWARD).
    const evolved = await client.register(subject, withField({ name: 'extra', type: ['null', 'string'], default: null }), 'BACKWARD');
    assert.notEqual(evolved, id);
    // A required field without a default: old data cannot be read with it.
    await assert.rejects(client.register(subject, withField({ name: 'mandatory', type: 'string' }), 'BACKWARD'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CP_SCHEMA_INCOMPATIBLE');
      assert.match(e.message, new RegExp(`not BACKWARD-compatible with the latest version of subject ${subject.replace(/\./g, '\\.')}`));
      return true;
    });
    assert.equal(await latestId(subject), evolved, 'the refused schema was not registered');
    // NONE lets anything through: the level is really set per subject.
    const anything = await client.register(subject, withField({ name: 'mandatory', type: 'string' }), 'NONE');
    assert.notEqual(anything, evolved);
  });

  it("crowdpulse ingest refuses to start when the topic's subject holds a schema ours is incompatible with: exit 1, CP_SCHEMA_INCOMPATIBLE, nothing produced", async () => {
    const config = registryConfig();
    // Someone else's record on our topic: ours (more required fields) cannot read what it wrote.
    await client.register(
      valueSubject(config.rawTopic),
      JSON.stringify({ type: 'record', name: 'Post', namespace: 'crowdpulse.v2', fields: [{ name: 'id', type: 'long' }] }),
      'NONE',
    );
    const env = roleEnv(config, join(dir, 'refused.db'), { CROWDPULSE_KAFKA_ENCODING: 'confluent-avro', CROWDPULSE_KAFKA_SCHEMA_REGISTRY_URL: REGISTRY_URL });
    const ingest = startRole('refused-ingest', ['ingest', '--input', FIXTURE, '--limit', '50'], env, dir);
    running.push(ingest);
    assert.equal(await ingest.exited, 1);
    const log = readFileSync(ingest.log, 'utf8');
    assert.match(log, /not BACKWARD-compatible with the latest version of subject .*\.raw-value.*\(CP_SCHEMA_INCOMPATIBLE\)/);
    assert.equal((await readTopic(config.rawTopic, 1, 3000)).length, 0);
  });

  it('ingest | analyze | store with confluent-avro: both topics registry-framed, every post stored, and the standard AvroDeserializer decodes both topics to what was produced', async () => {
    const config = registryConfig();
    const db = join(dir, 'roles.db');
    const env = roleEnv(config, db, { CROWDPULSE_KAFKA_ENCODING: 'confluent-avro', CROWDPULSE_KAFKA_SCHEMA_REGISTRY_URL: REGISTRY_URL });
    const lines = 300;
    const { posts, pairs } = expectedPosts(lines);
    const start = (name: string, args: string[]): RoleProcess => {
      const r = startRole(name, args, env, dir);
      running.push(r);
      return r;
    };
    const ingest = start('ingest', ['ingest', '--input', FIXTURE, '--limit', String(lines)]);
    assert.equal(await ingest.exited, 0, `ingest (log ${ingest.log})`);
    const analyze = start('analyze', ['analyze', '--limit', String(posts)]);
    const store = start('store', ['store', '--limit', String(posts)]);
    assert.equal(await analyze.exited, 0, `analyze (log ${analyze.log})`);
    assert.equal(await store.exited, 0, `store (log ${store.log})`);
    // The store role read the scored topic through KafkaSource: every (post, topic) exactly once.
    await assertExactlyStored(db, pairs, 10_000);

    const wire = new KafkaWire(config);
    try {
      for (const [topic, codec] of [
        [config.rawTopic, wire.postsFrom()],
        [config.scoredTopic, wire.scoredFrom()],
      ] as const) {
        const id = await latestId(valueSubject(topic));
        const messages = await readTopic(topic, posts);
        assert.equal(messages.length, posts, topic);
        for (const m of messages) {
          assert.equal(m.value?.[0], 0, 'magic byte 0');
          assert.equal(m.value?.readUInt32BE(1), id, 'the schema id registered under <topic>-value');
          assert.equal(m.headers?.length ?? 0, 0, 'no private headers');
        }
        // Our own reading of the topic…
        await codec.prepare(messages);
        const ours = new Map<string, Record<string, unknown>>();
        for (const m of messages) {
          const r = codec.decode(m.value, m.headers);
          assert.ok(r.ok, r.ok ? '' : r.error.reason);
          ours.set(String(m.key), r.value);
        }
        // …and Confluent's: the same records, field for field.
        const standard = await standardConsume(python, topic, posts);
        assert.equal(standard.length, posts);
        const seen = new Set<string>();
        for (const rec of standard) {
          seen.add(rec.key);
          assert.equal(rec.schema_id, id);
          const mine = ours.get(rec.key);
          assert.ok(mine, `key ${rec.key} read by the standard consumer is ours`);
          assert.deepEqual(rec.value, avroView(mine), `${topic} ${rec.key}`);
        }
        assert.equal(seen.size, posts);
      }
      // What was produced is what the fixture holds: the posts' ids on the raw topic.
      const stored = new Set([...pairs].map((p) => p.split('\t')[0]));
      const raw = await standardConsume(python, config.rawTopic, posts);
      assert.deepEqual(new Set(raw.map((r) => r.value.id)), stored);
    } finally {
      await wire.close();
    }
  });

  it('KafkaSource reads header avro, json and registry-framed messages on one topic; an unknown schema id and bad bytes are dead letters with a reason, and a registry that does not answer is retried, then dead-letters schema_unavailable', async () => {
    const config = registryConfig();
    await ensureTopics(config, crowdpulseTopics(config), undefined);
    const producing = new KafkaWire({ ...config, encoding: 'confluent-avro' });
    const producer = await KafkaProducer.connect(config, 'test');
    const posts = makePosts(6);
    const p = (i: number): Post => posts[i] as Post;
    try {
      const framed = await producing.postsTo(config.rawTopic);
      const message = (post: Post, e: { value: Buffer; headers: OutgoingMessage['headers'] }): OutgoingMessage => ({
        topic: config.rawTopic,
        key: post.id,
        ...e,
      });
      const unknownId = framed.encode(p(3));
      unknownId.value.writeUInt32BE(0x7ffffff0, 1);
      const badBytes = framed.encode(p(4));
      await producer.send([
        message(p(0), postCodec('avro').encode(p(0))),
        message(p(1), postCodec('json').encode(p(1))),
        message(p(2), framed.encode(p(2))),
        message(p(3), unknownId),
        message(p(4), { value: badBytes.value.subarray(0, 9), headers: [] }),
        message(p(5), framed.encode(p(5))),
      ]);

      const reading = new KafkaWire(config);
      const { items, letters } = await readThroughSource(config, reading.postsFrom(), 6);
      await reading.close();
      assert.deepEqual(
        items.map((x) => x.id).sort(),
        [0, 1, 2, 5].map((i) => p(i).id),
      );
      assert.deepEqual(
        items.find((x) => x.id === p(2).id),
        p(2),
      );
      const byOrigin = new Map(letters.letters.map((l) => [Buffer.from(l.original).equals(unknownId.value) ? 'unknown' : 'bad', l]));
      assert.equal(letters.letters.length, 2);
      assert.equal(byOrigin.get('unknown')?.code, 'unknown_version');
      assert.match(byOrigin.get('unknown')?.reason ?? '', /schema id 2147483632 is not in the registry/);
      assert.equal(byOrigin.get('bad')?.code, 'decode_failed');

      // A registry that does not answer: retried for schemaRegistryRetryMs, then dead letters with the reason; header formats still read.
      const down = { ...config, schemaRegistryUrl: 'http://127.0.0.1:9/apis/ccompat/v7', schemaRegistryRetryMs: 1500, schemaRegistryTimeoutMs: 500 };
      const unreachable = new KafkaWire(down);
      const t0 = Date.now();
      const second = await readThroughSource(down, unreachable.postsFrom(), 6);
      await unreachable.close();
      assert.ok(Date.now() - t0 >= 1000, 'retried before giving up');
      assert.deepEqual(
        second.items.map((x) => x.id).sort(),
        [0, 1].map((i) => p(i).id),
      );
      assert.deepEqual(second.letters.letters.map((l) => l.code).sort(), [
        'schema_unavailable',
        'schema_unavailable',
        'schema_unavailable',
        'schema_unavailable',
      ]);
      assert.match(second.letters.letters[0]?.reason ?? '', /127\.0\.0\.1:9\/apis\/ccompat\/v7 did not answer/);
    } finally {
      await producer.close();
      await producing.close();
    }
  });
});
