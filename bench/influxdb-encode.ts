/**
 * Where should the InfluxDB sink encode (line protocol) and gzip its batches: on the main thread
 * (JS encoding + zlib's async gzip on libuv's pool) or in a Piscina pool? Measures both on the same
 * scored posts:
 *   1. encode only: all batches of POSTS posts, MAX_IN_FLIGHT at a time (as the sink does);
 *   2. end to end: the real sink writing POSTS posts to a real InfluxDB (scripts/influxdb.sh up).
 * Reports wall time and main-thread event-loop utilisation (ELU: what the rest of the process —
 * the runner, Kafka, HTTP — loses), median of RUNS.
 *
 *   node --import tsx bench/influxdb-encode.ts
 *   POSTS=20000 BATCH=5000 RUNS=5 THREADS=2 INFLUX_URL=http://127.0.0.1:18086 node --import tsx bench/influxdb-encode.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { influxdbSection } from '../src/config/sections/influxdb.js';
import { LABELS, type ScoredPost } from '../src/contract/index.js';
import { buildEncoder, type BatchEncoder } from '../src/sinks/influxdb/encoder.js';
import { buildInfluxSink } from '../src/sinks/influxdb/index.js';
import type { DeadLetter } from '../src/contract/index.js';

const POSTS = Number(process.env.POSTS ?? 20_000);
const BATCH = Number(process.env.BATCH ?? 5000);
const RUNS = Number(process.env.RUNS ?? 5);
const THREADS = Number(process.env.THREADS ?? 0) || availableParallelism();
const MAX_IN_FLIGHT = Number(process.env.MAX_IN_FLIGHT ?? 2);
const URL = process.env.INFLUX_URL ?? 'http://127.0.0.1:18086';
const TOPICS = ['markets', 'climate', 'sport', 'elections', 'ai', 'music', 'health', 'space'];

function posts(n: number): ScoredPost[] {
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const t0 = Date.UTC(2026, 10, 1);
  return Array.from({ length: n }, (_, i) => {
    const created = t0 + i * 37;
    const neg = random() * 0.5;
    const pos = random() * 0.5;
    const probs = { neg, neu: 1 - neg - pos, pos };
    const k = random() < 0.8 ? 1 : random() < 0.75 ? 2 : 3;
    return {
      id: (((BigInt(created) - 1_288_834_974_657n) << 22n) | BigInt(i % 4096)).toString(),
      createdAt: new Date(created).toISOString(),
      topics: Array.from({ length: k }, (_, j) => TOPICS[(i + j * 3) % TOPICS.length] as string),
      lang: random() < 0.8 ? 'en' : 'de',
      label: LABELS[Math.floor(random() * 3)] as ScoredPost['label'],
      probs,
      score: pos - neg,
      model: 'fast@1',
      flags: [],
      ingestedAt: created + 3,
      analyzedAt: created + 8,
    };
  });
}

function chunks(items: ScoredPost[], points: number): ScoredPost[][] {
  const out: ScoredPost[][] = [];
  let cur: ScoredPost[] = [];
  let n = 0;
  for (const p of items) {
    if (cur.length > 0 && n + p.topics.length > points) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(p);
    n += p.topics.length;
  }
  if (cur.length) out.push(cur);
  return out;
}

async function encodeAll(encoder: BatchEncoder, batches: ScoredPost[][]): Promise<number> {
  let bytes = 0;
  let next = 0;
  await Promise.all(Array.from({ length: MAX_IN_FLIGHT }, async () => {
    while (next < batches.length) {
      const b = batches[next++] as ScoredPost[];
      bytes += (await encoder.encode(b)).body.byteLength;
    }
  }));
  return bytes;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function measure(label: string, run: () => Promise<unknown>): Promise<{ label: string; wallMs: number; elu: number; runs: number[] }> {
  await run(); // warm-up (JIT, worker start)
  const walls: number[] = [];
  const elus: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const e0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await run();
    walls.push(performance.now() - t0);
    elus.push(performance.eventLoopUtilization(e0).utilization);
  }
  const result = { label, wallMs: Number(median(walls).toFixed(1)), elu: Number(median(elus).toFixed(3)), runs: walls.map((w) => Number(w.toFixed(1))) };
  console.log(JSON.stringify(result));
  return result;
}

async function influxReady(): Promise<boolean> {
  try {
    return (await fetch(`${URL}/health`)).ok;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const data = posts(POSTS);
  const batches = chunks(data, BATCH);
  const points = data.reduce((n, p) => n + p.topics.length, 0);
  console.log(JSON.stringify({ posts: POSTS, points, batches: batches.length, batchPoints: BATCH, threads: THREADS, maxInFlight: MAX_IN_FLIGHT, cpus: cpus().length, cpu: cpus()[0]?.model }));
  const o = { measurement: 'post_sentiment', gzipMinBytes: 1024, gzipLevel: 3 };
  const results = [];
  for (const kind of ['main', 'pool'] as const) {
    const encoder = buildEncoder(kind, o, THREADS);
    results.push(await measure(`encode-only ${kind}`, () => encodeAll(encoder, batches)));
    await encoder.close();
  }
  if (await influxReady()) {
    const db = `bench_${Date.now()}`;
    await fetch(`${URL}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }) });
    const dead = { letters: 0, write: async (l: readonly DeadLetter[]) => void (dead.letters += l.length), close: async () => {} };
    for (const kind of ['main', 'pool'] as const) {
      const sink = buildInfluxSink(influxdbSection.parse({ url: URL, bucket: `${db}/autogen`, encoder: kind, encoderThreads: THREADS, batchSize: BATCH, maxInFlight: MAX_IN_FLIGHT }), dead);
      results.push(await measure(`sink-to-influxdb ${kind}`, () => sink.write(data)));
      await sink.close();
    }
    await fetch(`${URL}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE "${db}"` }) });
    if (dead.letters > 0) throw new Error(`${dead.letters} dead letters during the bench`);
  } else {
    console.log(JSON.stringify({ skipped: 'sink-to-influxdb', reason: `no InfluxDB at ${URL} (bash scripts/influxdb.sh up)` }));
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/influxdb-encode.json', JSON.stringify({ at: new Date().toISOString(), posts: POSTS, points, batchPoints: BATCH, threads: THREADS, runs: RUNS, results }, null, 2) + '\n');
}

await main();
