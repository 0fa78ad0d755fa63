/**
 * Micro-benchmarks of the non-model stages, on the fixture's posts:
 *  - stream line → Post (ingest's parse + validation);
 *  - message encode/decode: plain JSON (no validation) and the Kafka wire codecs (JSON and Avro,
 *    decode including contract validation) when src/kafka/codec.ts is present;
 *  - line-protocol encoding (+ gzip) of scored posts when the InfluxDB sink's encoder is present.
 * Probabilities of the scored posts are derived from a hash of the text (varied floats, as a
 * model's are); no model runs here.
 *   node --import tsx bench/micro/stages.ts [--posts 5000] [--min-seconds 1]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { postFromStreamBytes, type Post, type ScoredPost, scoredPostOf } from '../../src/contract/index.js';
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
const lines = readFixtureLines(join(REPO, values.fixture)).slice(0, n + 20);
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
