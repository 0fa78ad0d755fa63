/**
 * Micro-benchmarks of the non-model stages, on the fixture's posts:
 *  - stream line → Post (ingest's parse + validation);
 *  - message encode/decode: plain JSON (no validation) and the Kafka wire codecs (JSON and Avro,
 *    decode including contract validation) when src/kafka/codec.ts is present;
 *  - line-protocol encoding (+ gzip) of scored posts when the InfluxDB sink's encoder is present;
 *  - the embedded run's floors, per post: reading the recording (gunzip + line split) and the SQLite
 *    store's write (the real SqliteStore, batches of the configured store batch, a fresh file per
 *    pass), and apart from the write, rolling every window up afterwards as at close.
 * Probabilities of the scored posts are derived from a hash of the text (varied floats, as a
 * model's are); no model runs here.
 *   node --import tsx bench/micro/stages.ts [--posts 5000] [--min-seconds 1]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { configSchema } from '../../src/config/schema.js';
import { postFromStreamBytes, type Post, type ScoredPost, scoredPostOf } from '../../src/contract/index.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { REPO } from '../lib/child.js';
import { readFixtureLines } from '../lib/expected.js';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '5000' },
    fixture: { type: 'string', default: 'bench/fixtures/posts.ndjson.gz' },
    'min-seconds': { type: 'string', default: '1' },
  },
});
const n = Number(values.posts);
const minSeconds = Number(values['min-seconds']);
const fixturePath = join(REPO, values.fixture);
const recordedLines = readFixtureLines(fixturePath);
const lines = recordedLines.slice(0, n + 20);
const note = (s: string): void => void process.stderr.write(`${s}\n`);

function timed(items: number, pass: () => void): number {
  pass();
  let passes = 0;
  const t0 = performance.now();
  do {
    pass();
    passes += 1;
  } while ((performance.now() - t0) / 1000 < minSeconds);
  return (items * passes) / ((performance.now() - t0) / 1000);
}

const posts: Post[] = [];
for (const l of lines) {
  const p = postFromStreamBytes(l, Date.now());
  if (p.ok && posts.length < n) posts.push(p.value);
}
const scored: ScoredPost[] = posts.map((p) => {
  let h = 2166136261;
  for (let i = 0; i < p.text.length; i++) h = Math.imul(h ^ p.text.charCodeAt(i), 16777619);
  const a = ((h >>> 0) % 1000) / 1000;
  const b = (1 - a) * (((h >>> 10) % 1000) / 1000);
  const probs = { neg: b, neu: 1 - a - b, pos: a };
  return scoredPostOf(p, probs, { model: 'bench', flags: [], analyzedAt: p.ingestedAt + 3 });
});

const result: Record<string, unknown> = { posts: posts.length };
// Ingested now: with an ingestion time of 0 every created_at would lie in the future and be refused.
const ingestedAt = Date.now();
result.parse = {
  what: 'stream line bytes → validated Post',
  perSecond: timed(lines.length, () => {
    for (const l of lines) postFromStreamBytes(l, ingestedAt);
  }),
};
note('parse done');

// Reading the whole recording as `crowdpulse run --input` does before parsing: gunzip, then one slice per line.
result.read = {
  what: 'recording bytes → one buffer per line (gunzip + split)',
  perSecond: timed(recordedLines.length, () => {
    readFixtureLines(fixturePath);
  }),
};

// The SQLite store's write path as the embedded run drives it: one transaction per batch of the
// configured size, into a fresh file each pass (a second pass into the same file would update rows).
const storeBatch = configSchema.parse({}).pipeline.storeBatchSize;
const storeDir = mkdtempSync(join(tmpdir(), 'cp-bench-store-'));
const rows = scored.reduce((a, p) => a + p.topics.length, 0);
try {
  // Pass 0 warms the JIT and is not counted, as in timed().
  let passes = -1;
  let writeMs = 0;
  let rollMs = 0;
  do {
    const file = join(storeDir, `pass-${passes + 1}.db`);
    const store = new SqliteStore(file);
    const t0 = performance.now();
    for (let i = 0; i < scored.length; i += storeBatch) await store.write(scored.slice(i, i + storeBatch));
    if (passes >= 0) writeMs += performance.now() - t0;
    // Then every window rolled up, as `crowdpulse run` does at close (and the roller as windows go quiet).
    const t1 = performance.now();
    const { left } = store.rollAll(Number.MAX_SAFE_INTEGER);
    if (left > 0) throw new Error(`${left} windows not rolled up`);
    if (passes >= 0) rollMs += performance.now() - t1;
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    passes += 1;
  } while (writeMs / 1000 < minSeconds || passes < 2);
  result.store = {
    what: `ScoredPost → SQLite rows (SqliteStore.write, batches of ${storeBatch}, a fresh file per pass)`,
    rowsPerPost: rows / scored.length,
    perSecond: (scored.length * passes) / (writeMs / 1000),
    rollupRowsPerSecond: (rows * passes) / (rollMs / 1000),
  };
} finally {
  rmSync(storeDir, { recursive: true, force: true });
}
note('store done');

const codecRows: Record<string, unknown>[] = [];
const plainPost = posts.map((p) => JSON.stringify(p));
const plainScored = scored.map((p) => JSON.stringify(p));
codecRows.push({
  message: 'Post',
  encoding: 'JSON.stringify/parse (no validation)',
  bytes: plainPost.reduce((a, s) => a + Buffer.byteLength(s), 0) / posts.length,
  encodePerSecond: timed(posts.length, () => {
    for (const p of posts) Buffer.from(JSON.stringify(p));
  }),
  decodePerSecond: timed(posts.length, () => {
    for (const s of plainPost) JSON.parse(s);
  }),
});
codecRows.push({
  message: 'ScoredPost',
  encoding: 'JSON.stringify/parse (no validation)',
  bytes: plainScored.reduce((a, s) => a + Buffer.byteLength(s), 0) / scored.length,
  encodePerSecond: timed(scored.length, () => {
    for (const p of scored) Buffer.from(JSON.stringify(p));
  }),
  decodePerSecond: timed(scored.length, () => {
    for (const s of plainScored) JSON.parse(s);
  }),
});
if (existsSync(join(REPO, 'src/kafka/codec.ts'))) {
  const { postCodec, scoredPostCodec } = await import('../../src/kafka/codec.js');
  for (const encoding of ['json', 'avro'] as const) {
    for (const [message, codec, values] of [
      ['Post', postCodec(encoding), posts],
      ['ScoredPost', scoredPostCodec(encoding), scored],
    ] as const) {
      const c = codec as { encode(v: unknown): { value: Buffer; headers: unknown[] }; decode(v: Buffer, h: unknown[]): { ok: boolean } };
      const encoded = (values as readonly unknown[]).map((v) => c.encode(v));
      if (!encoded.every((e) => c.decode(e.value, e.headers).ok)) throw new Error(`${message} ${encoding}: a message does not decode`);
      codecRows.push({
        message,
        encoding: `Kafka codec ${encoding} (decode validates)`,
        bytes: encoded.reduce((a, e) => a + e.value.length, 0) / encoded.length,
        encodePerSecond: timed(values.length, () => {
          for (const v of values as readonly unknown[]) c.encode(v);
        }),
        decodePerSecond: timed(values.length, () => {
          for (const e of encoded) c.decode(e.value, e.headers);
        }),
      });
    }
  }
} else {
  result.codecNote = 'src/kafka/codec.ts not present';
}
result.codec = codecRows;
note('codec done');

if (existsSync(join(REPO, 'src/sinks/influxdb/line-protocol.ts'))) {
  const { encodePosts } = await import('../../src/sinks/influxdb/line-protocol.js');
  const once = encodePosts(scored, 'post_sentiment');
  const raw = Buffer.from(once.text);
  result.lineProtocol = {
    points: once.points,
    bytesPerPoint: raw.length / once.points,
    postsPerSecond: timed(scored.length, () => {
      encodePosts(scored, 'post_sentiment');
    }),
    gzipLevel3PostsPerSecond: timed(scored.length, () => {
      gzipSync(raw, { level: 3 });
    }),
    gzipRatio: gzipSync(raw, { level: 3 }).length / raw.length,
  };
  note('line protocol done');
} else {
  result.lineProtocolNote = 'src/sinks/influxdb/line-protocol.ts not present';
}
process.stdout.write(JSON.stringify(result) + '\n');
