/**
 * Kafka wire encoding: JSON vs Avro (avsc) for Post (raw topic) and ScoredPost (scored topic).
 * Measures bytes/message (before compression, and lz4-compressed per 256-message batch is left to
 * the broker) and encode/decode µs per message, decode including contract validation.
 *
 *   node --import tsx bench/kafka-codec.ts            # fixture bench/fixtures/posts.ndjson.gz if present, else synthetic
 *   BENCH_POSTS=5000 BENCH_ROUNDS=5 node --import tsx bench/kafka-codec.ts
 * Writes a JSON summary on stdout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { postFromStreamLine, type Post, type ScoredPost, scoredPostOf } from '../src/contract/index.js';
import { postCodec, scoredPostCodec, type Encoding, type WireCodec } from '../src/kafka/codec.js';

const N = Number(process.env.BENCH_POSTS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FIXTURE = process.env.BENCH_FIXTURE ?? 'bench/fixtures/posts.ndjson.gz';

function loadPosts(): { posts: Post[]; origin: string } {
  if (existsSync(FIXTURE)) {
    const raw = readFileSync(FIXTURE);
    const text = (FIXTURE.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    const posts: Post[] = [];
    for (const line of text.split('\n')) {
      if (posts.length >= N) break;
      const r = postFromStreamLine(line, Date.now());
      if (r.ok) posts.push(r.value);
    }
    return { posts, origin: FIXTURE };
  }
  return { posts: syntheticPosts(N), origin: 'synthetic' };
}

/** Tweet-like posts: 40–280 chars of words, 1–3 topics, ids of 19 digits. */
export function syntheticPosts(n: number, seed = 1): Post[] {
  let s = seed;
  const rnd = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const words = [
    'the',
    'launch',
    'was',
    'great',
    'awful',
    'service',
    'love',
    'hate',
    'new',
    'phone',
    'battery',
    'update',
    'team',
    'match',
    'tonight',
    'why',
    'is',
    'this',
    'so',
    'slow',
    '😀',
    'café',
    '#tech',
    '@user',
    'https://t.co/abc123',
  ];
  const topics = ['tech', 'sports', 'politics', 'music', 'weather'];
  const out: Post[] = [];
  const base = 1795600000000;
  for (let i = 0; i < n; i++) {
    const len = 40 + Math.floor(rnd() * 240);
    let text = '';
    while (text.length < len) text += (text ? ' ' : '') + words[Math.floor(rnd() * words.length)];
    const t = topics.filter(() => rnd() < 0.3);
    out.push({
      id: String(1900000000000000000n + BigInt(i)),
      text,
      createdAt: new Date(base + i * 37).toISOString(),
      lang: rnd() < 0.9 ? 'en' : 'es',
      topics: t.length ? t : ['tech'],
      ingestedAt: base + i * 37 + 120,
    });
  }
  return out;
}

function score(posts: Post[]): ScoredPost[] {
  return posts.map((p, i) => {
    const pos = (i % 7) / 7,
      neg = (1 - pos) * 0.6,
      neu = 1 - pos - neg;
    const probs = { neg, neu, pos };
    return scoredPostOf(p, probs, { model: 'fast-ngram-v1', flags: [], analyzedAt: p.ingestedAt + 40 });
  });
}

function measure<T>(codec: WireCodec<T>, values: T[]): { bytesPerMessage: number; encodeUs: number; decodeUs: number } {
  let bytes = 0;
  const encoded = values.map((v) => codec.encode(v));
  for (const e of encoded) bytes += e.value.length;
  let bestEnc = Infinity,
    bestDec = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    for (const v of values) codec.encode(v);
    bestEnc = Math.min(bestEnc, performance.now() - t);
    t = performance.now();
    for (const e of encoded) {
      const d = codec.decode(e.value, e.headers);
      if (!d.ok) throw new Error(`decode failed: ${d.error.reason}`);
    }
    bestDec = Math.min(bestDec, performance.now() - t);
  }
  return {
    bytesPerMessage: +(bytes / values.length).toFixed(1),
    encodeUs: +((bestEnc * 1000) / values.length).toFixed(2),
    decodeUs: +((bestDec * 1000) / values.length).toFixed(2),
  };
}

const { posts, origin } = loadPosts();
const scored = score(posts);
const result: Record<string, unknown> = { origin, messages: posts.length, rounds: ROUNDS, node: process.version };
for (const enc of ['json', 'avro'] as Encoding[]) {
  result[`post.${enc}`] = measure(postCodec(enc), posts);
  result[`scored.${enc}`] = measure(scoredPostCodec(enc), scored);
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
