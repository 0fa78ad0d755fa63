/**
 * Section "micro": per-stage micro-benchmarks, each in its own process, repeated; the markdown
 * for each is made here from the medians.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lastJsonLine, REPO, runChild, usageFileIn } from '../lib/child.js';
import { int8Peak } from '../lib/machine.js';
import { fmt } from '../lib/report.js';
import { spread, type Spread } from '../lib/stats.js';
import { loadManifest, resolveModelDir } from '../../src/model/registry.js';
import type { BenchContext } from './context.js';

type Json = Record<string, unknown>;
type Row = Record<string, number | string | boolean>;
type MergedRow = Row & { readonly spreads: Record<string, Spread> };

async function repeated(ctx: BenchContext, label: string, args: readonly string[], units: number): Promise<Json[]> {
  const out: Json[] = [];
  for (let rep = 1; rep <= ctx.options.microRepeats; rep++) {
    const step = ctx.progress.step(`micro ${label} #${rep}`, units, 'steps');
    let k = 0;
    try {
      const r = await runChild({
        name: label,
        args,
        usageFile: usageFileIn(join(REPO, 'bench/results/tmp'), `micro-${label}-${rep}`),
        timeoutMs: ctx.options.runTimeoutMs,
        onStderrLine: () => step.update(++k),
      });
      out.push(lastJsonLine<Json>(r.stdout, label));
      step.done('done');
    } catch (e) {
      step.done(`FAILED: ${(e as Error).message.split('\n').slice(0, 2).join(' | ')}`);
    }
  }
  return out;
}

/** Medians over repeats of rows matched by `key`, for every numeric field. */
/** The spread of one numeric figure over a script's repeats, over the repeats that report it. */
function spreadOf(runs: readonly Json[], pick: (run: Json) => unknown): Spread | undefined {
  const xs = runs.map((run) => Number(pick(run))).filter((x) => Number.isFinite(x));
  return xs.length > 0 ? spread(xs) : undefined;
}

function mergeRows(reps: readonly Row[][], key: (r: Row) => string): MergedRow[] {
  const first = reps[0] ?? [];
  return first.map((row) => {
    const k = key(row);
    const same = reps.map((rows) => rows.find((r) => key(r) === k)).filter((r): r is Row => r !== undefined);
    const spreads: Record<string, Spread> = {};
    for (const [f, v] of Object.entries(row)) if (typeof v === 'number') spreads[f] = spread(same.map((r) => r[f] as number));
    return { ...row, spreads } as MergedRow;
  });
}

/** The issue's end-to-end goals as rates (20,000 posts in 3 s / 30 s). */
const GOAL_RATE: Record<string, number> = { fast: 20_000 / 3, accurate: 20_000 / 30 };

export async function micro(ctx: BenchContext): Promise<void> {
  const peak = int8Peak(ctx.results.machine);

  ctx.results.micro.peak = peak;
  for (const tier of ctx.options.tiers) {
    if (!ctx.tiers.has(tier)) {
      ctx.results.micro[`inference.${tier}`] = { skipped: `models/${tier} not present` };
      continue;
    }
    // The transformer is ~100× the work per post: fewer posts and no batch beyond 128 keep its sweep to a minute or two.
    const sweep =
      tier === 'accurate'
        ? ['--posts', '512', '--batches', '1,8,16,64', '--min-seconds', '1']
        : ['--posts', '4096', '--batches', '1,8,32,128,512', '--min-seconds', '1'];
    const reps = await repeated(ctx, `inference/${tier}`, ['bench/micro/inference.ts', '--model', tier, '--fixture', ctx.options.fixture, ...sweep], 16);
    if (reps.length === 0) continue;
    const session = mergeRows(
      reps.map((r) => r.session as Row[]),
      (r) => `${r.threads}/${r.batch}/${r.order}`,
    );
    const pool = mergeRows(
      reps.map((r) => r.pool as Row[]),
      (r) => `${r.workers}/${r.batch}`,
    );
    const encode = mergeRows(
      reps.map((r) => r.encode as Row[]),
      (r) => String(r.batch),
    );
    const macs = reps[0]?.macs as Json;
    const L: string[] = [`### Inference, ${tier} tier (\`${String(reps[0]?.model)}\`)`, ''];
    L.push(
      macs.perToken
        ? `MACs from the ONNX graph: ${Number(macs.weightMacsPerRow).toLocaleString('en-US')} per token in ${String(macs.weightProducts)} weight products (${String(macs.int8Products)} int8), plus attention: ${String(macs.activationProducts)} activation products × L × ${String(macs.hidden)} per token at padded length L. Ops = 2 × MACs.`
        : `From the ONNX graph: a ${Number(macs.embeddingRows).toLocaleString('en-US')} × ${String(macs.embeddingWidth)} ${String(macs.embeddingType)} embedding table gathered and summed per feature slot, then ${Number(macs.weightMacsPerRow).toLocaleString('en-US')} MACs per post (${String(macs.weightProducts)} weight product(s), ${String(macs.int8Products)} int8). Ops = slots × ${String(macs.embeddingWidth)} adds + 2 × MACs per post: memory-bound gathers, not int8 arithmetic, so the share of the int8 peak is small by nature.`,
    );
    L.push(`CPU int8 peak: ${peak.formula}.`, '');
    L.push(
      '| mode | intra-op threads | batch | batch order | posts/s | slots/post (tokens or features fed, padding incl.) | ops/post | G ops/s | % of int8 peak |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const r of session) {
      const ops = r.spreads.opsPerSecond;
      L.push(
        `| session (model only) | ${r.threads} | ${r.batch} | ${r.order} | ${fmt(r.spreads.postsPerSecond)} | ${Number(r.slotsPerPost).toFixed(1)} | ${Math.round(Number(r.opsPerPost)).toLocaleString('en-US')} | ${ops ? fmt(spread(ops.samples.map((x) => x / 1e9)), 2) : 'n/a'} | ${ops ? ((ops.median / peak.opsPerSecond) * 100).toFixed(2) : 'n/a'}% |`,
      );
    }
    const goalRate = GOAL_RATE[tier];
    // The pipeline's default batch for the tier, from its manifest.
    const defaultBatch = (await loadManifest(resolveModelDir(tier))).serving.maxBatch;
    const atDefault =
      session.find((r) => r.order === 'arrival' && Number(r.threads) === 1 && Number(r.batch) === defaultBatch) ?? session.find((r) => r.order === 'arrival');
    let goalNote: string | undefined;
    if (goalRate !== undefined && atDefault) {
      const need = goalRate * Number(atDefault.opsPerPost);
      ctx.results.micro[`goalArithmetic.${tier}`] = {
        goalPostsPerSecond: goalRate,
        opsPerPost: Number(atDefault.opsPerPost),
        batch: atDefault.batch,
        requiredOpsPerSecond: need,
        shareOfPeak: need / peak.opsPerSecond,
      };
      goalNote = `${tier}: the goal rate of ${goalRate.toLocaleString('en-US')} posts/s at ${Math.round(Number(atDefault.opsPerPost)).toLocaleString('en-US')} ops/post (batch ${String(atDefault.batch)} in arrival order, padded to its longest post) needs ${(need / 1e9).toFixed(1)} G ops/s = ${((need / peak.opsPerSecond) * 100).toFixed(1)} % of this CPU's int8 peak, for inference alone.`;
    }
    for (const r of pool)
      L.push(`| Piscina pool (encode + model in workers) | 1 each, ${r.workers} workers | ${r.batch} | arrival | ${fmt(r.spreads.postsPerSecond)} | | | | |`);
    L.push('', `Encoder alone: ${encode.map((r) => `batch ${r.batch}: ${fmt(r.spreads.postsPerSecond)} posts/s`).join(', ')}.`, '');
    if (goalNote) L.push(`Goal arithmetic — ${goalNote}`, '');
    ctx.results.micro[`inference.${tier}`] = { macs, session, pool, encode, markdown: L.join('\n') };
    ctx.save();
  }

  const stages = await repeated(ctx, 'stages', ['bench/micro/stages.ts', '--fixture', ctx.options.fixture], 3);
  if (stages.length > 0) {
    const codec = mergeRows(
      stages.map((s) => s.codec as Row[]),
      (r) => `${r.message}/${r.encoding}`,
    );
    const rate = (key: string): Spread | undefined => spreadOf(stages, (s) => (s[key] as Json | undefined)?.perSecond);
    const parse = rate('parse');
    const read = rate('read');
    const store = rate('store');
    const L = [
      '### Parse, message encode/decode, line protocol',
      '',
      `Ingest parse (stream line → validated Post): ${parse ? fmt(parse) : 'n/a'} posts/s.`,
      '',
    ];
    // The embedded run's floors: work every post needs on its way through `crowdpulse run` besides the model.
    let floors: Json | undefined;
    if (parse && read && store) {
      const us = (x: Spread): number => 1e6 / x.median;
      const rolls = spreadOf(stages, (s) => (s.store as Json | undefined)?.rollupRowsPerSecond);
      floors = { readMicros: us(read), parseMicros: us(parse), storeMicros: us(store), rowsPerPost: Number((stages[0]?.store as Json).rowsPerPost) };
      const rollText =
        rolls !== undefined
          ? ` Rolling the windows up afterwards (as \`crowdpulse run\` does at close, and the roller as windows go quiet) costs ${(1e6 / rolls.median).toFixed(2)} µs a row more.`
          : '';
      L.push(
        `Floors of the embedded run, per post (single thread, medians): reading the recording (gunzip + line split) ${us(read).toFixed(2)} µs, parse ${us(parse).toFixed(2)} µs, the SQLite store's write (${Number(floors.rowsPerPost).toFixed(2)} rows per post, batches of the configured store batch) ${us(store).toFixed(2)} µs: ${(us(read) + us(parse) + us(store)).toFixed(1)} µs in all, before any hand-off to the model's workers, acks, shift detection or GC.${rollText}`,
        '',
      );
    }
    L.push('| message | encoding | bytes | encode/s | decode/s |', '| --- | --- | --- | --- | --- |');
    for (const r of codec)
      L.push(`| ${r.message} | ${r.encoding} | ${Number(r.bytes).toFixed(0)} | ${fmt(r.spreads.encodePerSecond)} | ${fmt(r.spreads.decodePerSecond)} |`);
    const lp = stages.map((s) => s.lineProtocol as Json | undefined).filter((x): x is Json => x !== undefined);
    if (lp.length > 0) {
      L.push(
        '',
        `InfluxDB line protocol: ${fmt(spread(lp.map((x) => Number(x.postsPerSecond))))} posts/s encoded (${Number(lp[0]?.bytesPerPoint).toFixed(0)} bytes/point), gzip level 3 of the encoded text ${fmt(spread(lp.map((x) => Number(x.gzipLevel3PostsPerSecond))))} posts/s (ratio ${Number(lp[0]?.gzipRatio).toFixed(2)}).`,
      );
    } else L.push('', 'Line protocol: the InfluxDB encoder is not present.');
    L.push('');
    ctx.results.micro.stages = { runs: stages, codec, ...(floors ? { floors } : {}), markdown: L.join('\n') };
    ctx.save();
  }

  if (ctx.services.kafka && existsSync(join(REPO, 'src/kafka/producer.ts'))) {
    const brokerPid = ctx.services.kafka.pid;
    const reps = await repeated(
      ctx,
      'kafka-io',
      [
        'bench/micro/kafka-io.ts',
        '--brokers',
        ctx.services.kafka.address,
        '--fixture',
        ctx.options.fixture,
        ...(brokerPid === undefined ? [] : ['--broker-pid', String(brokerPid)]),
      ],
      2,
    );
    if (reps.length > 0) {
      const p = spread(reps.map((r) => Number(r.producePerSecond)));
      const c = spread(reps.map((r) => Number(r.consumePerSecond)));
      // CPU per message, µs: this process and the broker, per phase (medians over the repeats).
      const cpu = (phase: string, who: 'client' | 'broker'): number | undefined => spreadOf(reps, (r) => (r[phase] as Json | undefined)?.[who])?.median;
      const cpuText = (phase: string): string => {
        const client = cpu(phase, 'client');
        const broker = cpu(phase, 'broker');
        return client === undefined
          ? ''
          : ` (CPU per message: client ${client.toFixed(1)} µs${broker === undefined ? '' : `, broker ${broker.toFixed(1)} µs`})`;
      };
      ctx.results.micro.kafka = {
        runs: reps,
        markdown: `### Kafka\n\nThrough crowdpulse's transport, ${String(reps[0]?.messages)} Post messages (${String(reps[0]?.encoding)}, ${Number(reps[0]?.bytesPerMessage).toFixed(0)} bytes), batches of ${String(reps[0]?.batch)}: produce (acknowledged, idempotent, lz4; encoded beforehand) ${fmt(p)} msg/s${cpuText('produceCpuMicros')}; consume (decode + validate + ack) ${fmt(c)} msg/s${cpuText('consumeCpuMicros')}.\n`,
      };
      ctx.save();
    }
  } else {
    ctx.results.micro.kafka = {
      skipped: ctx.services.kafka ? 'src/kafka/producer.ts not present' : 'no Kafka broker',
      markdown: `### Kafka\n\nSkipped: ${ctx.services.kafka ? 'transport not present' : `no broker (${ctx.services.problems.join('; ') || 'kafka topology not selected'})`}.\n`,
    };
  }
}
