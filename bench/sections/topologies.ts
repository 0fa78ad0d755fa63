/**
 * Sections "throughput" (N posts, unpaced, through each topology and tier) and "sustained" (a
 * target rate held for a duration). Repeats are interleaved (rep 1 of every configuration, then
 * rep 2, ...) so that a noisy minute does not land on one configuration only.
 */
import { join } from 'node:path';
import { REPO } from '../lib/child.js';
import { expectedCached, fixtureFor } from '../lib/fixtures.js';
import type { RunFigures, TopologyResult } from '../lib/results.js';
import { spread, type Spread } from '../lib/stats.js';
import { expectedFromEmulator, TooFewMatchingPosts } from '../lib/emulated.js';
import type { Expected } from '../lib/expected.js';
import { runEmbedded, type SourceKind, type TopologyRun } from '../topologies/embedded.js';
import { runKafka } from '../topologies/kafka.js';
import { postsFor, type BenchContext } from './context.js';

export interface Plan {
  readonly topology: 'embedded' | 'kafka';
  readonly source: SourceKind;
  readonly store: 'sqlite' | 'influxdb';
  readonly tier: string;
  readonly posts: number;
  readonly rate?: number;
  readonly rateLabel?: string;
}

const FIGURES = [
  'seconds',
  'postsPerSecond',
  'latencyP50Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'latencyMaxMs',
  'ingestPostsPerSecond',
  'lagP50Ms',
  'lagP99Ms',
  'lagMaxMs',
  'lagEndMs',
  'estimatedLatencyP50Ms',
  'estimatedLatencyP99Ms',
] as const;

export const planName = (p: Plan): string =>
  `${p.source === 'x-emulator' ? 'x→' : ''}${p.topology === 'embedded' ? 'embedded' : `kafka→${p.store}`}/${p.tier}${p.rateLabel ? ` @${p.rateLabel}` : ''}`;

const emulatedCache = new Map<string, Expected>();
function expectedOf(fixture: string, p: Plan): Expected {
  if (p.source === 'replay') return expectedCached(fixture, p.posts);
  const key = `${fixture}#${p.posts}`;
  let e = emulatedCache.get(key);
  if (!e) emulatedCache.set(key, (e = expectedFromEmulator(fixture, p.posts)));
  return e;
}

/** Why a plan cannot run here, if it cannot. */
export function unavailable(ctx: BenchContext, p: Plan): string | undefined {
  if (!ctx.tiers.has(p.tier)) return `models/${p.tier}/model.json not present`;
  if (p.topology === 'kafka') {
    if (!ctx.services.kafka) return `no Kafka broker (${ctx.services.problems.join('; ') || 'not started'})`;
    if (p.store === 'influxdb' && !ctx.services.influxdb) return `no InfluxDB (${ctx.services.problems.join('; ') || 'not started'})`;
  }
  return undefined;
}

export function toFigures(run: TopologyRun): RunFigures {
  return {
    ok: run.ok,
    problems: run.problems,
    ...(run.timing ?? {}),
    processes: run.processes,
    ...(run.latencySource ? { latencySource: run.latencySource } : {}),
  };
}

export function summarise(p: Plan, ctx: BenchContext, runs: RunFigures[], skipped?: string): TopologyResult {
  const ok = runs.filter((r) => r.ok);
  const figures: Record<string, Spread> = {};
  for (const k of FIGURES) {
    const xs = ok.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (xs.length > 0) figures[k] = spread(xs);
  }
  const processFigures: Record<string, Record<string, Spread>> = {};
  const roles = [...new Set(ok.flatMap((r) => r.processes.map((x) => x.role)))];
  for (const role of roles) {
    const of = (key: 'cpuSeconds' | 'cpuCores' | 'peakRssMiB'): Spread => spread(ok.map((r) => r.processes.find((x) => x.role === role)?.[key] ?? Number.NaN));
    processFigures[role] = { cpuSeconds: of('cpuSeconds'), cpuCores: of('cpuCores'), peakRssMiB: of('peakRssMiB') };
  }
  return {
    topology: p.topology,
    store: p.store,
    source: p.source,
    tier: p.tier,
    modelId: ctx.tiers.get(p.tier)?.id ?? 'absent',
    posts: p.posts,
    ...(p.rate === undefined ? {} : { targetRate: p.rate }),
    ...(p.rateLabel ? { rateLabel: p.rateLabel } : {}),
    ...(p.rateLabel ? { durationSeconds: ctx.options.durationSeconds } : {}),
    runs,
    figures,
    processFigures,
    failed: runs.length - ok.length,
    ...(skipped ? { skipped } : {}),
    ...(ok[0]?.latencySource ? { latencySource: ok[0].latencySource } : {}),
  };
}

/**
 * A recording that holds the plan's posts, and what the store must hold. From the X emulator only
 * the posts that match the rules arrive (about 94 % of the generated ones), so a larger recording is
 * made until enough of them match (a sustained run at half of a fast maximum can ask for ~50,000).
 */
async function fixtureOf(ctx: BenchContext, p: Plan): Promise<{ fixture: string; expected: Expected }> {
  for (let lines = p.posts; ;) {
    const fixture = await fixtureFor(lines, ctx.options.fixture);
    try {
      return { fixture, expected: expectedOf(fixture, p) };
    } catch (e) {
      if (!(e instanceof TooFewMatchingPosts) || lines >= 4 * p.posts) throw e;
      // At the share that matched in this recording, with 2 % to spare: more posts than it holds.
      lines = Math.ceil((e.asked * e.loaded) / Math.max(1, e.matching) / 0.98);
    }
  }
}

export async function runPlan(ctx: BenchContext, p: Plan, rep: number | string, cpuProfileDir?: string): Promise<RunFigures> {
  const { fixture, expected } = await fixtureOf(ctx, p);
  const dir = join(REPO, 'bench/results/tmp/runs', `${planName(p).replace(/[^a-z0-9]+/gi, '-')}-${String(rep).replace(/[^a-z0-9]+/gi, '-')}`);
  const step = ctx.progress.step(`${planName(p)} ${typeof rep === 'number' ? `#${rep}` : rep}`, expected.posts);
  const common = {
    fixture,
    expected,
    source: p.source,
    tier: p.tier,
    dir,
    maxBatch: ctx.options.maxBatch,
    timeoutMs: ctx.options.runTimeoutMs,
    onProgress: (n: number) => step.update(n),
    ...(p.rate === undefined ? {} : { rate: p.rate }),
    ...(cpuProfileDir ? { cpuProfileDir, keepFiles: true } : {}),
  };
  let run: TopologyRun;
  try {
    run =
      p.topology === 'embedded'
        ? await runEmbedded(common)
        : await runKafka({
            ...common,
            kafka: ctx.services.kafka as NonNullable<typeof ctx.services.kafka>,
            store: p.store,
            ...(ctx.services.influxdb ? { influx: ctx.services.influxdb } : {}),
            onStatus: (s) => step.update(0, s),
          });
  } catch (e) {
    run = { ok: false, problems: [`harness error: ${(e as Error).message}`], posts: 0, timing: undefined, processes: [], dir };
  }
  const t = run.timing;
  step.done(
    run.ok && t
      ? `${Math.round(t.postsPerSecond)} posts/s, ${t.seconds.toFixed(2)} s, p99 ${Number.isFinite(t.latencyP99Ms) ? Math.round(t.latencyP99Ms) + ' ms' : 'n/a'}`
      : `FAILED: ${run.problems.slice(0, 3).join('; ')}`,
  );
  return toFigures(run);
}

/**
 * Runs every plan `repeats` times, interleaved; returns one result per plan. With `warmUp`, each
 * plan first runs once on `warmUpPosts` posts, not counted (file cache, transpile cache, JIT).
 */
export async function runPlans(
  ctx: BenchContext,
  plans: readonly Plan[],
  repeats: number,
  onDone: (results: TopologyResult[]) => void,
  warmUpPosts = 0,
): Promise<TopologyResult[]> {
  const runs = plans.map(() => [] as RunFigures[]);
  const skipped = plans.map((p) => unavailable(ctx, p));
  const snapshot = (): TopologyResult[] => plans.map((p, i) => summarise(p, ctx, runs[i] as RunFigures[], skipped[i]));
  if (warmUpPosts > 0) {
    for (const [i, p] of plans.entries()) if (!skipped[i]) await runPlan(ctx, { ...p, posts: Math.min(p.posts, warmUpPosts) }, 'warm-up (not counted)');
  }
  for (let rep = 1; rep <= repeats; rep++) {
    for (const [i, p] of plans.entries()) {
      if (skipped[i]) continue;
      (runs[i] as RunFigures[]).push(await runPlan(ctx, p, rep));
      onDone(snapshot());
    }
  }
  return snapshot();
}

export function throughputPlans(ctx: BenchContext): Plan[] {
  const plans: Plan[] = [];
  for (const source of ctx.options.sources) {
    for (const topology of ctx.options.topologies) {
      for (const tier of ctx.options.tiers) {
        const posts = postsFor(ctx.options, tier);
        if (topology === 'embedded') plans.push({ topology, source, store: 'sqlite', tier, posts });
        else for (const store of ctx.options.kafkaStores) plans.push({ topology, source, store, tier, posts });
      }
    }
  }
  return plans;
}

/** Rates: a number (posts/s), "max" (unpaced for the duration), "half" (half the measured max). */
export function sustainedPlans(ctx: BenchContext, maxRates: ReadonlyMap<string, number>): Plan[] {
  const plans: Plan[] = [];
  const d = ctx.options.durationSeconds;
  for (const base of throughputPlans(ctx).filter((p) => ctx.options.sustainedSources.includes(p.source))) {
    const max = maxRates.get(planName(base));
    for (const label of ctx.options.rates) {
      if (label === 'max') {
        if (max === undefined) continue;
        plans.push({ ...base, posts: Math.max(1000, Math.round(max * d)), rateLabel: 'max' });
      } else if (label === 'half') {
        if (max === undefined) continue;
        const rate = Math.max(1, Math.round(max / 2));
        plans.push({ ...base, posts: Math.max(100, Math.round(rate * d)), rate, rateLabel: 'half' });
      } else {
        const rate = Number(label);
        if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate: "${label}" is not a number, "half" or "max"`);
        // A rate well above the measured maximum cannot be held: offer it for as many posts as the
        // pipeline can store in the duration, so the run shows the backlog without lasting minutes.
        const posts = max !== undefined && rate > 1.2 * max ? Math.round(max * d) : Math.round(rate * d);
        plans.push({ ...base, posts: Math.max(100, posts), rate, rateLabel: String(rate) });
      }
    }
  }
  return plans;
}
