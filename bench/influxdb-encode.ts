/**
 * Where should the InfluxDB sink encode (line protocol) and gzip its batches: on the main thread
 * (JS encoding + zlib's async gzip on libuv's pool) or in a Piscina pool? Measures both on the same
 * scored posts:
 *   1. encode only: all batches of POSTS posts, MAX_IN_FLIGHT at a time (as the sink does);
 *   2. end to end: the real sink writing POSTS posts to a real InfluxDB (scripts/influxdb.sh up).
 * Reports wall time and main-thread event-loop utilisation (ELU: what the rest of the process —
 * the runner, Kafka, HTTP — loses), median of RUNS, the contenders alternating run by run.
 *
 *   node --import tsx bench/influxdb-encode.ts
 *   POSTS=20000 BATCH=5000 RUNS=5 THREADS=2 INFLUX_URL=http://127.0.0.1:18086 node --import tsx bench/influxdb-encode.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
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
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
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
  await Promise.all(
    Array.from({ length: MAX_IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const b = batches[next++] as ScoredPost[];
        bytes += (await encoder.encode(b)).body.byteLength;
      }
    }),
  );
  return bytes;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Measured {
  label: string;
  wallMs: number;
  elu: number;
  runs: number[];
}

/**
 * Runs the contenders alternately (A B A B …) so that load from other processes on a shared
 * machine hits both alike; reports medians and how often each was the faster of its pair.
 */
async function compare(label: string, contenders: Record<string, () => Promise<unknown>>): Promise<Measured[]> {
  const names = Object.keys(contenders);
  for (const n of names) await (contenders[n] as () => Promise<unknown>)(); // warm-up (JIT, worker start)
  const walls = new Map<string, number[]>(names.map((n) => [n, []]));
  const elus = new Map<string, number[]>(names.map((n) => [n, []]));
  const wins = new Map<string, number>(names.map((n) => [n, 0]));
  for (let r = 0; r < RUNS; r++) {
    let best = '';
    let bestWall = Infinity;
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      const e0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      await (contenders[n] as () => Promise<unknown>)();
      const wall = performance.now() - t0;
      walls.get(n)?.push(wall);
      elus.get(n)?.push(performance.eventLoopUtilization(e0).utilization);
      if (wall < bestWall) [best, bestWall] = [n, wall];
    }
    wins.set(best, (wins.get(best) ?? 0) + 1);
  }
  return names.map((n) => {
    const result = {
      label: `${label} ${n}`,
      wallMs: Number(median(walls.get(n) ?? []).toFixed(1)),
      elu: Number(median(elus.get(n) ?? []).toFixed(3)),
      fasterInPairs: wins.get(n) ?? 0,
      runs: (walls.get(n) ?? []).map((w) => Number(w.toFixed(1))),
    };
    console.log(JSON.stringify(result));
    return result;
  });
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
  console.log(
    JSON.stringify({
      posts: POSTS,
      points,
      batches: batches.length,
      batchPoints: BATCH,
      threads: THREADS,
      maxInFlight: MAX_IN_FLIGHT,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
    }),
  );
  const o = { measurement: 'post_sentiment', gzipMinBytes: 1024, gzipLevel: 3 };
  const results: Measured[] = [];
  const main = buildEncoder('main', o, THREADS);
  const pool = buildEncoder('pool', o, THREADS);
  results.push(...(await compare('encode-only', { main: () => encodeAll(main, batches), pool: () => encodeAll(pool, batches) })));
  await main.close();
  await pool.close();
  if (await influxReady()) {
    const db = `bench_${Date.now()}`;
    await fetch(`${URL}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${db}"` }) });
    const dead = { letters: 0, write: async (l: readonly DeadLetter[]) => void (dead.letters += l.length), close: async () => {} };
    const sink = (kind: 'main' | 'pool') =>
      buildInfluxSink(
        influxdbSection.parse({ url: URL, bucket: `${db}/autogen`, encoder: kind, encoderThreads: THREADS, batchSize: BATCH, maxInFlight: MAX_IN_FLIGHT }),
        dead,
      );
    const sinks = { main: sink('main'), pool: sink('pool') };
    results.push(...(await compare('sink-to-influxdb', { main: () => sinks.main.write(data), pool: () => sinks.pool.write(data) })));
    await sinks.main.close();
    await sinks.pool.close();
    await fetch(`${URL}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE "${db}"` }) });
    if (dead.letters > 0) throw new Error(`${dead.letters} dead letters during the bench`);
  } else {
    console.log(JSON.stringify({ skipped: 'sink-to-influxdb', reason: `no InfluxDB at ${URL} (bash scripts/influxdb.sh up)` }));
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/influxdb-encode.json',
    JSON.stringify(
      { at: new Date().toISOString(), loadavg: loadavg(), posts: POSTS, points, batchPoints: BATCH, threads: THREADS, runs: RUNS, results },
      null,
      2,
    ) + '\n',
  );
}

await main();
