/**
 * Section "side-by-side": the same posts and the same model, analysed the way the descendant
 * system did (one post per session.run, unbatched, one thread, in the main thread) and by VADER's
 * lexicon, each in its own process; crowdpulse's embedded throughput (full pipeline: ingest,
 * analyze, store) divided by theirs (analysis only).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lastJsonLine, REPO, runChild, usageFileIn } from '../lib/child.js';
import { fixtureFor } from '../lib/fixtures.js';
import type { SideBySide, TopologyResult } from '../lib/results.js';
import { spread, type Spread } from '../lib/stats.js';
import { postsFor, type BenchContext } from './context.js';

interface AnalyserOutput {
  readonly posts: number;
  readonly seconds: number;
  readonly postsPerSecond: number;
  readonly extra?: Record<string, unknown>;
}

const PER_POST = 'descendant way: onnxruntime session.run per post, unbatched, 1 thread, main thread, same encoder';
const VADER = 'VADER lexicon (npm vader-sentiment), one post at a time, main thread';
const POOL = 'crowdpulse analyze stage alone: SentimentTransform on its Piscina pool (a worker per core, tier-default batch), no source, no store';
const ORIGIN = "origin system's analysis: roberta-base sequence classifier (random weights) in PyTorch fp32, one post per call (bench/origin/roberta.py)";

/** One analyser's figure over the repeats, or why there is none. */
type Measured = { pps?: Spread; extra?: Record<string, unknown>; error?: string };

async function measure(ctx: BenchContext, label: string, script: string, args: readonly string[], posts: number): Promise<Measured> {
  const samples: number[] = [];
  // CPU per post while analysing (every thread), where the analyser reports it: the median over the repeats.
  const cpuMicros: number[] = [];
  let extra: Record<string, unknown> | undefined;
  let error: string | undefined;
  // The bundled recording, or a larger one generated as the end-to-end runs do when it holds too few.
  const fixture = await fixtureFor(posts, ctx.options.fixture);
  for (let rep = 1; rep <= ctx.options.repeats; rep++) {
    const step = ctx.progress.step(`${label} #${rep}`, posts);
    try {
      const r = await runChild({
        name: label,
        args: [script, '--posts', String(posts), '--fixture', fixture, ...args],
        usageFile: usageFileIn(join(REPO, 'bench/results/tmp'), `${label}-${rep}`),
        timeoutMs: ctx.options.runTimeoutMs,
        onStderrLine: (line) => {
          const m = /^progress: (\d+)/.exec(line);
          if (m) step.update(Number(m[1]));
        },
      });
      const o = lastJsonLine<AnalyserOutput>(r.stdout, label);
      samples.push(o.postsPerSecond);
      if (typeof o.extra?.cpuMicrosPerPost === 'number') cpuMicros.push(o.extra.cpuMicrosPerPost);
      extra = {
        ...o.extra,
        ...(cpuMicros.length > 0 ? { cpuMicrosPerPost: spread(cpuMicros).median } : {}),
        peakRssMiB: r.usage?.peakRssMiB,
        cpuCores: r.usage ? (r.usage.userCpuSeconds + r.usage.systemCpuSeconds) / r.usage.wallSeconds : undefined,
      };
      step.done(`${Math.round(o.postsPerSecond)} posts/s`);
    } catch (e) {
      error = (e as Error).message.split('\n').slice(0, 3).join(' | ');
      step.done(`FAILED: ${error}`);
    }
  }
  return samples.length > 0 ? { pps: spread(samples), ...(extra ? { extra } : {}) } : { error: error ?? 'no repeats' };
}

export async function sideBySide(ctx: BenchContext, embedded: readonly TopologyResult[]): Promise<SideBySide[]> {
  const out: SideBySide[] = [];
  const postsOf = (tier: string): number => Math.min(ctx.options.baselinePosts, postsFor(ctx.options, tier));
  // The replay-source run reads exactly these posts; the emulator serves the subset matching its rules.
  const crowdpulse = (tier: string): number | undefined => {
    const runs = embedded.filter((t) => t.topology === 'embedded' && t.tier === tier && !t.skipped);
    return (runs.find((t) => t.source === 'replay') ?? runs[0])?.figures.postsPerSecond?.median;
  };
  const row = (tier: string, analyser: string, description: string, m: Measured, posts: number): SideBySide => {
    const cp = crowdpulse(tier);
    return {
      tier,
      analyser,
      description,
      posts,
      postsPerSecond: m.pps,
      ...(m.pps && cp !== undefined ? { crowdpulseSpeedup: cp / m.pps.median } : {}),
      ...(m.extra ? { extra: m.extra } : {}),
      ...(m.error ? { skipped: m.error } : {}),
    };
  };
  for (const tier of ctx.options.tiers) {
    const posts = postsOf(tier);
    if (!ctx.tiers.has(tier)) {
      out.push({ tier, analyser: 'per-post', description: PER_POST, posts, postsPerSecond: undefined, skipped: `models/${tier} not present` });
      continue;
    }
    out.push(row(tier, 'per-post', PER_POST, await measure(ctx, `per-post/${tier}`, 'bench/side-by-side/per-post.ts', ['--model', tier], posts), posts));
    out.push(row(tier, 'analyze-stage', POOL, await measure(ctx, `analyze-stage/${tier}`, 'bench/side-by-side/pool.ts', ['--model', tier], posts), posts));
    ctx.results.sideBySide = out;
    ctx.save();
  }
  const origin = await measureOrigin(ctx);
  for (const tier of ctx.options.tiers) out.push(row(tier, 'origin', ORIGIN, origin, ctx.options.originPosts));
  ctx.results.sideBySide = out;
  ctx.save();
  const vaderPosts = Math.min(ctx.options.baselinePosts, ctx.options.posts);
  const vader = await measure(ctx, 'vader', 'bench/side-by-side/vader.ts', [], vaderPosts);
  for (const tier of ctx.options.tiers) out.push(row(tier, 'vader', VADER, vader, vaderPosts));
  return out;
}

/** Installs the origin analyser's Python environment (scripts/origin-venv.sh), then measures it. */
async function measureOrigin(ctx: BenchContext): Promise<Measured> {
  const step = ctx.progress.step('origin: installing its Python environment (scripts/origin-venv.sh)', 1);
  try {
    await promisify(execFile)('bash', [join(REPO, 'scripts/origin-venv.sh'), 'install'], { maxBuffer: 16 << 20, timeout: 30 * 60_000 });
    step.done('ready');
  } catch (e) {
    const error = `scripts/origin-venv.sh install failed: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').slice(-3).join(' | ')}`;
    step.done(`FAILED: ${error}`);
    return { error };
  }
  return measure(ctx, 'origin', 'bench/side-by-side/origin.ts', [], ctx.options.originPosts);
}
