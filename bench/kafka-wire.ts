/**
 * Bytes a message really costs on the broker: produces the fixture's posts (and scored versions)
 * to fresh one-partition topics, JSON vs Avro × compression codecs, and reads the size of the
 * partition's log segment from the local broker's data directory (scripts/kafka.sh up first).
 *
 *   bash scripts/kafka.sh up && node --import tsx bench/kafka-wire.ts
 *   BENCH_POSTS=5000 BENCH_CODECS=none,lz4,gzip,snappy
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { kafkaSection } from '../src/config/sections/kafka.js';
import { postFromStreamLine, type Post, type ScoredPost, scoredPostOf } from '../src/contract/index.js';
import { ensureTopics } from '../src/kafka/admin.js';
import { postCodec, scoredPostCodec, type Encoding, type WireCodec } from '../src/kafka/codec.js';
import { KafkaProducer } from '../src/kafka/producer.js';

const N = Number(process.env.BENCH_POSTS ?? 5000);
const CODECS = (process.env.BENCH_CODECS ?? 'none,lz4,gzip,snappy').split(',') as ('none' | 'lz4' | 'gzip' | 'snappy')[];
const DATA = process.env.KAFKA_DATA_DIR ?? '.services/kafka/data';
const BATCH = 256;

const lines = gunzipSync(readFileSync('bench/fixtures/posts.ndjson.gz')).toString('utf8').split('\n');
const posts: Post[] = [];
for (const line of lines) {
  if (posts.length >= N) break;
  const r = postFromStreamLine(line, Date.now());
  if (r.ok) posts.push(r.value);
}
const scored: ScoredPost[] = posts.map((p, i) => {
  const a = ((i * 7919) % 1000) / 1000,
    b = (1 - a) * (((i * 31) % 100) / 100);
  const probs = { neg: b, neu: 1 - a - b, pos: a };
  return scoredPostOf(p, probs, { model: 'fast-ngram-v1', flags: [], analyzedAt: p.ingestedAt + 40 });
});

function segmentBytes(topic: string): number {
  const dir = join(DATA, `${topic}-0`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

async function run<T extends { id: string }>(
  name: string,
  items: T[],
  codec: WireCodec<T>,
  compression: (typeof CODECS)[number],
): Promise<Record<string, number | string>> {
  const config = kafkaSection.parse({ compression, partitions: 1, lingerMs: 20 });
  const topic = `bench-${randomBytes(3).toString('hex')}-${name}-${codec.encoding}-${compression}`;
  await ensureTopics(config, [topic]);
  const producer = await KafkaProducer.connect(config, 'bench');
  const started = performance.now();
  for (let i = 0; i < items.length; i += BATCH) {
    await producer.send(items.slice(i, i + BATCH).map((item) => ({ topic, key: item.id, ...codec.encode(item) })));
  }
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  await new Promise((r) => setTimeout(r, 500));
  const bytes = segmentBytes(topic);
  return {
    message: name,
    encoding: codec.encoding,
    compression,
    bytesPerMessageOnBroker: +(bytes / items.length).toFixed(1),
    producedPerSecond: Math.round(items.length / seconds),
  };
}

const rows: Record<string, number | string>[] = [];
for (const compression of CODECS) {
  for (const enc of ['json', 'avro'] as Encoding[]) {
    rows.push(await run('post', posts, postCodec(enc), compression));
    rows.push(await run('scored', scored, scoredPostCodec(enc), compression));
  }
}
process.stdout.write(JSON.stringify({ messages: posts.length, batch: BATCH, rows }, null, 2) + '\n');
