/**
 * Topology (b): ingest → Kafka → analyze → Kafka → store → InfluxDB (or SQLite), three role
 * processes plus the broker and the database, each measured. Every run gets its own topics,
 * consumer groups and measurement (or SQLite file), so runs never see each other's data.
 *
 * Timing: with SQLite the stored rows carry ingested_at/stored_at (exact, per post). InfluxDB
 * points carry no stage times, so there the span is first post ingested → last point written as
 * seen by polling the roles' /metrics every 100 ms, and latency comes from the store role's
 * crowdpulse_end_to_end_latency_seconds histogram when its sink observes it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChild, usageFileIn, type RunningChild, type ChildResult } from '../lib/child.js';
import type { Expected } from '../lib/expected.js';
import { freePort } from '../lib/ports.js';
import { ProcWatch } from '../lib/proc.js';
import { histogramBuckets, isReady, scrape, sumOf } from '../lib/prom.js';
import { readSqlite } from '../lib/sqlite-readout.js';
import { curveLags, curveLatencies, curveQuantiles, curveRate, type CountSample } from '../lib/curves.js';
import { histogramQuantile } from '../lib/stats.js';
import { timingOf, type Timing } from '../lib/timing.js';
import type { Service } from '../lib/services.js';
import { compareRows } from '../lib/verify.js';
import type { EmulatedExpected } from '../lib/emulated.js';
import { processFigures, startEmulator, xClientEnv, type ProcessFigures, type SourceKind, type TopologyRun } from './embedded.js';

export interface KafkaSpec {
  readonly fixture: string;
  readonly expected: Expected;
  readonly source?: SourceKind;
  readonly tier: string;
  readonly dir: string;
  readonly maxBatch?: number;
  readonly kafka: Service;
  readonly store: 'influxdb' | 'sqlite';
  readonly influx?: Service;
  readonly rate?: number;
  readonly timeoutMs: number;
  readonly cpuProfileDir?: string;
  readonly onProgress?: (stored: number) => void;
  readonly onStatus?: (text: string) => void;
  readonly keepFiles?: boolean;
}

interface Role {
  readonly name: 'ingest' | 'analyze' | 'store';
  readonly url: string;
  readonly child: RunningChild;
}

const E2E = 'crowdpulse_end_to_end_latency_seconds';

async function waitReady(roles: readonly Role[], timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (const role of roles) {
    for (;;) {
      if (role.child.process.exitCode !== null) return `${role.name} exited with ${role.child.process.exitCode} before it was ready`;
      if (await isReady(role.url)) break;
      if (Date.now() > deadline) return `${role.name} not ready after ${timeoutMs} ms`;
      await sleep(200);
    }
  }
  return undefined;
}

const tail = (r: ChildResult): string => r.stderrTail.trim().split('\n').slice(-6).join(' | ');

export async function runKafka(spec: KafkaSpec): Promise<TopologyRun> {
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  const id = `b${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const db = join(spec.dir, 'store.db');
  const env: Record<string, string> = {
    CROWDPULSE_KAFKA_BROKERS: spec.kafka.address,
    CROWDPULSE_KAFKA_RAW_TOPIC: `bench.${id}.raw`,
    CROWDPULSE_KAFKA_SCORED_TOPIC: `bench.${id}.scored`,
    CROWDPULSE_KAFKA_DEAD_LETTER_TOPIC: `bench.${id}.dead`,
    CROWDPULSE_KAFKA_ANALYZE_GROUP: `bench-${id}-analyze`,
    CROWDPULSE_KAFKA_STORE_GROUP: `bench-${id}-store`,
    CROWDPULSE_LOG_LEVEL: 'warn',
    CROWDPULSE_LOG_PROGRESS: 'off',
    CROWDPULSE_MODEL_MAX_BATCH: String(spec.maxBatch ?? 0),
    CROWDPULSE_DEAD_LETTER_PATH: join(spec.dir, 'dead-letters.ndjson'),
  };
  const measurement = `bench_${id}`;
  if (spec.store === 'influxdb') {
    if (!spec.influx) throw new Error('the influxdb store needs the InfluxDB service');
    env.CROWDPULSE_INFLUXDB_URL = spec.influx.address;
    env.CROWDPULSE_INFLUXDB_MEASUREMENT = measurement;
  }
  const ports = { ingest: await freePort(), analyze: await freePort(), store: await freePort() };
  const start = (name: Role['name'], args: string[]): Role => ({
    name,
    url: `http://127.0.0.1:${ports[name]}`,
    child: startChild({
      name,
      args: ['bin/crowdpulse.js', name, '--port', String(ports[name]), ...args],
      env,
      usageFile: usageFileIn(spec.dir, name),
      timeoutMs: spec.timeoutMs,
      ...(spec.cpuProfileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${join(spec.cpuProfileDir, name)}`] } : {}),
    }),
  });
  // Topics first, once: two roles creating them at the same moment can leave a consumer that
  // subscribed before the topic existed waiting on "unknown topic or partition".
  const { kafkaSection } = await import('../../src/config/sections/kafka.js');
  const { ensureTopics } = await import('../../src/kafka/admin.js');
  const kafkaConfig = kafkaSection.parse({ brokers: spec.kafka.address });
  await ensureTopics(kafkaConfig, [env.CROWDPULSE_KAFKA_RAW_TOPIC, env.CROWDPULSE_KAFKA_SCORED_TOPIC, env.CROWDPULSE_KAFKA_DEAD_LETTER_TOPIC] as string[]);
  const storeArgs = spec.store === 'sqlite' ? ['--sink', 'sqlite', '--db', db] : ['--sink', 'influxdb'];
  const store = start('store', storeArgs);
  const analyze = start('analyze', ['--model', spec.tier]);
  const roles: Role[] = [store, analyze];
  const problems: string[] = [];
  const stopAll = async (): Promise<Map<string, ChildResult>> => {
    const results = new Map<string, ChildResult>();
    for (const r of roles) results.set(r.name, await r.child.stop(20_000));
    return results;
  };
  spec.onStatus?.('starting roles');
  const notReady = await waitReady(roles, 90_000);
  if (notReady) {
    const results = await stopAll();
    return { ok: false, problems: [notReady, ...[...results].map(([n, r]) => `${n}: ${tail(r)}`)], posts: 0, timing: undefined, processes: [], dir: spec.dir };
  }

  let emulator: RunningChild | undefined;
  let sourceArgs = [
    '--input',
    spec.fixture,
    '--limit',
    String(spec.expected.lines),
    ...(spec.rate === undefined ? ['--mode', 'max'] : ['--mode', 'rate', '--rate', String(spec.rate)]),
  ];
  if (spec.source === 'x-emulator') {
    const emu = await startEmulator(spec, (spec.expected as EmulatedExpected).emulatorLimit);
    if ('error' in emu) {
      await stopAll();
      return { ok: false, problems: [emu.error], posts: 0, timing: undefined, processes: [], dir: spec.dir };
    }
    emulator = emu.child;
    Object.assign(env, xClientEnv(emu.url, spec.dir));
    sourceArgs = ['--source', 'x'];
  }
  const watches = [spec.kafka, spec.influx]
    .filter((s): s is Service => s?.pid !== undefined && (s.name === 'kafka' || spec.store === 'influxdb'))
    .map((s) => ({ name: s.name, watch: new ProcWatch(s.pid as number) }));
  const ingest = start('ingest', sourceArgs);
  roles.unshift(ingest);
  spec.onStatus?.('running');

  // Done when the store has written every expected row (points for InfluxDB, posts for SQLite) and
  // the count has stayed put for a second (so that extra rows would be seen too).
  const expectedRows = Object.values(spec.expected.rowsPerTopic).reduce((a, b) => a + b, 0);
  const target = spec.store === 'influxdb' ? expectedRows : spec.expected.posts + spec.expected.duplicateLines;
  let firstIngestAt: number | undefined;
  let reachedAt: number | undefined;
  let lastCount = -1;
  let stableSince = performance.now();
  const deadline = performance.now() + spec.timeoutMs;
  // Cumulative counts over time (posts ingested, posts stored) for the latency estimate without stage times.
  const ingestedCurve: CountSample[] = [{ t: performance.now(), count: 0 }];
  const storedCurve: CountSample[] = [{ t: performance.now(), count: 0 }];
  const postsPerRow = spec.expected.posts / Math.max(1, expectedRows);
  let ingestDone = false;
  for (;;) {
    const now = performance.now();
    if (!ingestDone) {
      const m = await scrape(ingest.url, 500);
      const n = m ? sumOf(m, 'crowdpulse_posts_total', { stage: 'ingest', direction: 'out' }) : undefined;
      if (n !== undefined) {
        if (n > 0 && firstIngestAt === undefined) firstIngestAt = now;
        ingestedCurve.push({ t: now, count: n });
        if (n >= spec.expected.posts + spec.expected.duplicateLines) ingestDone = true;
      } else if (ingest.child.process.exitCode !== null) ingestDone = true;
    }
    const s = await scrape(store.url, 1000);
    const count = s
      ? spec.store === 'influxdb'
        ? sumOf(s, 'crowdpulse_influxdb_points_written_total')
        : sumOf(s, 'crowdpulse_posts_total', { stage: 'store', direction: 'out' })
      : lastCount;
    if (s) storedCurve.push({ t: performance.now(), count: spec.store === 'influxdb' ? count * postsPerRow : count });
    spec.onProgress?.(spec.store === 'influxdb' ? Math.round((count / Math.max(1, expectedRows)) * spec.expected.posts) : count);
    if (count !== lastCount) {
      lastCount = count;
      stableSince = now;
    }
    if (reachedAt === undefined && count >= target) reachedAt = now;
    if (reachedAt !== undefined && now - stableSince > 1000) break;
    if (store.child.process.exitCode !== null || analyze.child.process.exitCode !== null) {
      problems.push(`a role exited early (store ${store.child.process.exitCode}, analyze ${analyze.child.process.exitCode})`);
      break;
    }
    if (now > deadline) {
      problems.push(`timed out with ${count} of ${target} ${spec.store === 'influxdb' ? 'points' : 'posts'} stored`);
      break;
    }
    await sleep(100);
  }
  const storeMetrics = await scrape(store.url, 2000);
  const services = watches.map((w) => ({ name: w.name, figures: w.watch.stop() }));
  // The replay ingest ends by itself; a stream ingest is stopped (SIGTERM: drain, then exit).
  const ingestResult = emulator ? await ingest.child.stop(30_000) : await ingest.child.done;
  const emulatorResult = emulator ? await emulator.stop(5000) : undefined;
  roles.shift();
  const results = await stopAll();
  results.set('ingest', ingestResult);
  const processes: ProcessFigures[] = [];
  for (const name of ['ingest', 'analyze', 'store'] as const) {
    const r = results.get(name) as ChildResult;
    processes.push(processFigures(name, r.usage, r.wallSeconds));
    if (r.code !== 0) problems.push(`${name} exited with ${r.code ?? r.signal}: ${tail(r)}`);
  }
  if (emulatorResult) processes.push(processFigures('x emulator', emulatorResult.usage, emulatorResult.wallSeconds));
  for (const s of services) {
    if (s.figures)
      processes.push({
        role: s.name === 'kafka' ? 'kafka broker' : 'influxd',
        cpuSeconds: s.figures.cpuSeconds,
        cpuCores: s.figures.cpuSeconds / Math.max(1e-3, s.figures.wallSeconds),
        peakRssMiB: s.figures.peakRssMiB,
        wallSeconds: s.figures.wallSeconds,
      });
  }

  // Dead letters: the ingest role reports how many lines it refused.
  const dl = /(\d+) dead letters/.exec(ingestResult.stdout);
  const wantDead = Object.values(spec.expected.deadLettersByCode).reduce((a, b) => a + b, 0);
  if (!dl) problems.push('ingest printed no dead-letter count');
  else if (Number(dl[1]) !== wantDead) problems.push(`ingest dead letters: ${dl[1]}, expected ${wantDead}`);

  let timing: Timing | undefined;
  let latencySource = 'stored rows: stored_at − ingested_at per post';
  let estimate: { estimatedLatencyP50Ms: number; estimatedLatencyP99Ms: number } | undefined;
  let posts: number;
  if (spec.store === 'sqlite') {
    const readout = readSqlite(db);
    problems.push(...compareRows(spec.expected, readout.rowsPerTopic, readout.distinctPosts).problems);
    timing = timingOf(spec.expected.ids, readout.times, spec.rate);
    posts = readout.distinctPosts;
    // The polled-count estimator beside the exact figures, so its error is known where InfluxDB relies on it.
    const est = curveQuantiles(curveLatencies(ingestedCurve, storedCurve, spec.expected.posts, Math.max(1, Math.floor(spec.expected.posts / 5000))));
    estimate = { estimatedLatencyP50Ms: est.p50, estimatedLatencyP99Ms: est.p99 };
  } else {
    const { InfluxQuery } = await import('../../src/sinks/influxdb/query.js');
    const { influxdbSection } = await import('../../src/config/sections/influxdb.js');
    const query = new InfluxQuery(influxdbSection.parse({ url: (spec.influx as Service).address, measurement }));
    try {
      const integrity = await query.integrity();
      problems.push(...compareRows(spec.expected, integrity.rowsPerTopic, integrity.distinctPosts, integrity.duplicateKeys).problems);
      posts = integrity.distinctPosts;
    } finally {
      await query.close();
    }
    if (firstIngestAt !== undefined && reachedAt !== undefined) {
      const seconds = (reachedAt - firstIngestAt) / 1000;
      const buckets = storeMetrics ? histogramBuckets(storeMetrics, E2E) : [];
      const observed = buckets[buckets.length - 1]?.count ?? 0;
      let latency: { p50: number; p95: number; p99: number; max: number };
      if (observed > 0) {
        const q = (p: number): number => histogramQuantile(buckets, p) * 1000;
        latency = { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: Number.NaN };
        latencySource = 'store role histogram crowdpulse_end_to_end_latency_seconds';
      } else {
        latency = curveQuantiles(curveLatencies(ingestedCurve, storedCurve, spec.expected.posts, Math.max(1, Math.floor(spec.expected.posts / 5000))));
        latencySource = 'estimated from ingested/stored counts polled every 100 ms (FIFO assumption); the InfluxDB sink records no end-to-end latency';
      }
      const step = Math.max(1, Math.floor(spec.expected.posts / 5000));
      const lag = spec.rate === undefined ? undefined : curveLags(ingestedCurve, storedCurve, spec.expected.posts, spec.rate, step);
      timing = {
        seconds,
        postsPerSecond: spec.expected.posts / seconds,
        latencyP50Ms: latency.p50,
        latencyP95Ms: latency.p95,
        latencyP99Ms: latency.p99,
        latencyMaxMs: latency.max,
        ingestPostsPerSecond: curveRate(ingestedCurve, spec.expected.posts),
        ...(lag ? { lagP50Ms: lag.p50, lagP99Ms: lag.p99, lagMaxMs: lag.max, lagEndMs: lag.end } : {}),
        startMs: performance.timeOrigin + firstIngestAt,
        endMs: performance.timeOrigin + reachedAt,
      };
    }
  }
  const ok = problems.length === 0;
  if (ok && !spec.keepFiles) rmSync(spec.dir, { recursive: true, force: true });
  return { ok, problems, posts, timing: timing && estimate ? { ...timing, ...estimate } : timing, processes, dir: spec.dir, latencySource };
}
