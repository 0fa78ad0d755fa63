/**
 * `npm run bench`: replays recorded posts through each topology and tier, checks that the store
 * holds exactly what it must, and writes bench/results/<time>.{json,md} and latest.{json,md}.
 *
 *   npm run bench                                   # everything, 20,000 posts, 3 repeats
 *   npm run bench -- --sections throughput --tiers fast --repeats 1 --posts 2000
 *   npm run bench -- --sections sustained --rate 67,500,half,max --duration 30s
 *
 * Options (defaults in brackets):
 *   --posts N [20000]            posts per end-to-end run (first N of the fixture)
 *   --tier-posts accurate=5000   per-tier override of --posts (posts/s stays comparable)
 *   --repeats R [3]              repeats of every figure (median, min–max)
 *   --tiers fast,accurate        model tiers
 *   --topologies embedded,kafka  topologies; kafka starts its own broker and InfluxDB via scripts/
 *   --kafka-store influxdb       where the Kafka topology's store role writes: influxdb, sqlite or both
 *   --source auto                replay, x-emulator (crowdpulse emulate + the real X client), or both;
 *                                auto = x-emulator where the emulator is built, else replay
 *   --sections throughput,side-by-side,sustained,micro
 *   --rate 67,500,half,max       sustained-rate targets (posts/s; half/max = of the measured max)
 *   --duration 30s               sustained-rate duration
 *   --sustained-repeats R [=repeats]   --micro-repeats R [=repeats]
 *   --sustained-source S [first of --source]
 *   --baseline-posts N [=posts]  posts for the side-by-side analysers
 *   --origin-posts N [400]       posts for the origin's PyTorch roberta-base (9–17 posts/s measured on this machine kind)
 *   --profile / --no-profile     CPU-profile the bottleneck when a goal is missed [on]
 *   --profile-all                CPU-profile one run of every throughput configuration
 *   --warm-up N [2000]           one uncounted run of N posts per configuration first (0 = none)
 *   --max-batch N [0]            posts per inference call in crowdpulse (model.maxBatch; 0 = the tier default)
 *   --out DIR [bench/results]    --fixture FILE [bench/fixtures/posts.ndjson.gz]
 *   --run-timeout 600s           --kafka-port 29092  --influx-port 28086
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from './lib/child.js';
import { summariseProfiles } from './lib/cpuprofile.js';
import { BUNDLED } from './lib/fixtures.js';
import { machine, versions } from './lib/machine.js';
import { tierInfo, type TierInfo } from './lib/models.js';
import { BenchProgress } from './lib/progress.js';
import { markdown } from './lib/report.js';
import type { BenchResults, Goal, TopologyResult } from './lib/results.js';
import { ensureService, scriptsPresent, stopService, type Service } from './lib/services.js';
import type { BenchContext, BenchOptions } from './sections/context.js';
import { micro } from './sections/micro.js';
import { sideBySide } from './sections/side-by-side.js';
import { planName, runPlan, runPlans, sustainedPlans, throughputPlans } from './sections/topologies.js';

function seconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new Error(`not a duration: "${s}" (e.g. 30s, 2m)`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v / 1000 : m[2] === 'm' ? v * 60 : v;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function options(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      posts: { type: 'string', default: '20000' },
      'tier-posts': { type: 'string', default: '' },
      repeats: { type: 'string', default: '3' },
      tiers: { type: 'string', default: 'fast,accurate' },
      topologies: { type: 'string', default: 'embedded,kafka' },
      'kafka-store': { type: 'string', default: 'influxdb' },
      source: { type: 'string', default: 'auto' },
      sections: { type: 'string', default: 'throughput,side-by-side,sustained,micro' },
      rate: { type: 'string', default: '67,500,half,max' },
      duration: { type: 'string', default: '30s' },
      'sustained-repeats': { type: 'string' },
      'micro-repeats': { type: 'string' },
      'sustained-source': { type: 'string' },
      'baseline-posts': { type: 'string' },
      'origin-posts': { type: 'string', default: '400' },
      profile: { type: 'boolean', default: true },
      'no-profile': { type: 'boolean', default: false },
      'profile-all': { type: 'boolean', default: false },
      'warm-up': { type: 'string', default: '2000' },
      'max-batch': { type: 'string', default: '0' },
      out: { type: 'string', default: 'bench/results' },
      fixture: { type: 'string', default: BUNDLED },
      'run-timeout': { type: 'string', default: '600s' },
      'kafka-port': { type: 'string', default: '29092' },
      'influx-port': { type: 'string', default: '28086' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    const doc = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    process.stdout.write(`${(/\/\*\*([\s\S]*?)\*\//.exec(doc)?.[1] ?? '').replace(/^ \* ?/gm, '').trim()}\n`);
    process.exit(0);
  }
  const repeats = Math.max(1, Number(values.repeats));
  const topologies = list(values.topologies);
  for (const t of topologies) if (t !== 'embedded' && t !== 'kafka') throw new Error(`--topologies: unknown "${t}" (embedded, kafka)`);
  const stores = list(values['kafka-store']);
  for (const s of stores) if (s !== 'influxdb' && s !== 'sqlite') throw new Error(`--kafka-store: unknown "${s}" (influxdb, sqlite)`);
  const emulatorBuilt = existsSync(join(REPO, 'src/commands/emulate.ts'));
  const sources = list(values.source).map((s) => (s === 'auto' ? (emulatorBuilt ? 'x-emulator' : 'replay') : s));
  for (const s of sources) if (s !== 'replay' && s !== 'x-emulator') throw new Error(`--source: unknown "${s}" (auto, replay, x-emulator)`);
  const tierPosts: Record<string, number> = {};
  for (const kv of list(values['tier-posts'])) {
    const [tier, n] = kv.split('=');
    if (!tier || !Number(n)) throw new Error(`--tier-posts: "${kv}" is not TIER=N`);
    tierPosts[tier] = Number(n);
  }
  return {
    posts: Number(values.posts),
    tierPosts,
    sources: [...new Set(sources)] as ('replay' | 'x-emulator')[],
    repeats,
    tiers: list(values.tiers),
    topologies: topologies as ('embedded' | 'kafka')[],
    kafkaStores: stores as ('influxdb' | 'sqlite')[],
    sections: new Set(list(values.sections)),
    rates: list(values.rate),
    durationSeconds: seconds(values.duration),
    sustainedRepeats: values['sustained-repeats'] ? Number(values['sustained-repeats']) : repeats,
    microRepeats: values['micro-repeats'] ? Number(values['micro-repeats']) : repeats,
    sustainedSources: values['sustained-source']
      ? (list(values['sustained-source']).map((s) => (s === 'auto' ? (emulatorBuilt ? 'x-emulator' : 'replay') : s)) as ('replay' | 'x-emulator')[])
      : ([...new Set(sources)].slice(0, 1) as ('replay' | 'x-emulator')[]),
    baselinePosts: values['baseline-posts'] ? Number(values['baseline-posts']) : Number(values.posts),
    originPosts: Number(values['origin-posts']),
    fixture: values.fixture,
    outDir: values.out,
    profile: values.profile && !values['no-profile'],
    profileAll: values['profile-all'],
    warmUpPosts: Number(values['warm-up']),
    maxBatch: Number(values['max-batch']),
    runTimeoutMs: seconds(values['run-timeout']) * 1000,
    kafkaPort: Number(values['kafka-port']),
    influxPort: Number(values['influx-port']),
  };
}

/**
 * What a goal rate leaves the pipeline around the model, where this run measured the analyze stage's
 * CPU per post (side by side) and, when the micro section ran, the floors of reading, parsing and
 * storing a post: with every core busy, a rate R allows cores ÷ R of CPU per post in all.
 */
function pipelineBudget(r: BenchResults, tier: string): ((goalRate: number) => string) | undefined {
  const stageCpu = r.sideBySide.find((s) => s.tier === tier && s.analyser === 'analyze-stage')?.extra?.cpuMicrosPerPost;
  if (typeof stageCpu !== 'number') return undefined;
  const floors = (r.micro.stages as { floors?: { readMicros: number; parseMicros: number; storeMicros: number } } | undefined)?.floors;
  const cores = r.machine.cores;
  return (goalRate) => {
    const perPost = (cores * 1e6) / goalRate;
    const left = perPost - stageCpu;
    const floorText = floors
      ? `; reading, parsing and storing a post alone take ${(floors.readMicros + floors.parseMicros + floors.storeMicros).toFixed(1)} µs (micro section: ${floors.readMicros.toFixed(1)} + ${floors.parseMicros.toFixed(1)} + ${floors.storeMicros.toFixed(1)})`
      : '';
    return `${Math.round(goalRate).toLocaleString('en-US')} posts/s on ${cores} cores allows ${perPost.toFixed(1)} µs of CPU a post with every core busy; the analyze stage takes ${stageCpu.toFixed(1)} of them, which leaves the rest of the pipeline ${left.toFixed(1)} µs${floorText}`;
  };
}

/** The issue's goals, judged from the medians. */
function goals(r: BenchResults): Goal[] {
  const out: Goal[] = [];
  const sources = [...new Set(r.topologies.map((t) => t.source))];
  const label = (source: string): string => (sources.length > 1 ? ` (${source === 'x-emulator' ? 'X emulator source' : 'replay source'})` : '');
  const find = (topology: string, tier: string, source: string): TopologyResult | undefined =>
    r.topologies.find((t) => t.topology === topology && t.tier === tier && t.source === source && (topology === 'embedded' || t.store === 'influxdb'));
  const embeddedTarget: Record<string, number> = { accurate: 30, fast: 3 };
  for (const source of sources.length > 0 ? sources : ['replay']) {
    for (const [tier, limit] of Object.entries(embeddedTarget)) {
      const t = find('embedded', tier, source);
      const pps = t?.figures.postsPerSecond?.median;
      const secs = pps ? 20_000 / pps : undefined;
      out.push({
        goal: `embedded, ${tier} tier: 20,000 posts end to end${label(source)}`,
        target: `≤ ${limit} s (≥ ${Math.round(20_000 / limit)} posts/s)`,
        measured:
          secs === undefined
            ? t?.skipped
              ? `skipped: ${t.skipped}`
              : 'not measured'
            : `${secs.toFixed(2)} s for 20,000 (${Math.round(pps as number)} posts/s${t && t.posts !== 20_000 ? `, from ${t.posts}-post runs` : ''})`,
        met: secs === undefined ? undefined : secs <= limit,
        ...(secs !== undefined && secs > limit ? { note: `${(secs / limit).toFixed(1)}× the target (${(secs - limit).toFixed(1)} s over)` } : {}),
      });
      const k = find('kafka', tier, source);
      const kp = k?.figures.postsPerSecond?.median;
      const want = (20_000 / limit) * 0.5;
      out.push({
        goal: `Kafka + InfluxDB, ${tier} tier${label(source)}`,
        target: `≥ 50 % of the embedded goal rate (≥ ${Math.round(want)} posts/s)`,
        measured:
          kp === undefined
            ? k?.skipped
              ? `skipped: ${k.skipped}`
              : 'not measured'
            : `${Math.round(kp)} posts/s (${Math.round((kp / (20_000 / limit)) * 100)} % of the goal rate${pps ? `, ${Math.round((kp / pps) * 100)} % of the embedded rate measured` : ''})`,
        met: kp === undefined ? undefined : kp >= want,
        ...(kp !== undefined && kp < want ? { note: `${(want / kp).toFixed(1)}× short` } : {}),
      });
    }
  }
  // The pipeline must cost less than the model: ratios to the analyze stage alone, the naive loop and embedded.
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  for (const tier of [...new Set(r.topologies.map((t) => t.tier))]) {
    const embedded = (find('embedded', tier, 'replay') ?? find('embedded', tier, sources[0] ?? 'replay'))?.figures.postsPerSecond?.median;
    const analyser = (name: string): number | undefined => r.sideBySide.find((s) => s.tier === tier && s.analyser === name)?.postsPerSecond?.median;
    const stage = analyser('analyze-stage');
    const naive = analyser('per-post');
    const budget = pipelineBudget(r, tier);
    if (embedded !== undefined && stage !== undefined)
      out.push({
        goal: `embedded end to end vs its analyze stage alone, ${tier} tier`,
        target: '≥ 60 %',
        measured: `${pct(embedded / stage)} (${Math.round(embedded)} vs ${Math.round(stage)} posts/s)`,
        met: embedded / stage >= 0.6,
        ...(embedded / stage < 0.6 && budget ? { note: budget(stage * 0.6) } : {}),
      });
    if (embedded !== undefined && naive !== undefined)
      out.push({
        goal: `embedded end to end vs the naive loop (one unbatched ONNX call per post, main thread), ${tier} tier`,
        target: '≥ 2×',
        measured: `${(embedded / naive).toFixed(2)}× (${Math.round(embedded)} vs ${Math.round(naive)} posts/s)`,
        met: embedded / naive >= 2,
        ...(embedded / naive < 2 && budget ? { note: budget(naive * 2) } : {}),
      });
    for (const source of sources) {
      const e = find('embedded', tier, source)?.figures.postsPerSecond?.median;
      const k = find('kafka', tier, source)?.figures.postsPerSecond?.median;
      if (e !== undefined && k !== undefined)
        out.push({
          goal: `Kafka + InfluxDB vs embedded, ${tier} tier${label(source)}`,
          target: '≥ 60 %',
          measured: `${pct(k / e)} (${Math.round(k)} vs ${Math.round(e)} posts/s)`,
          met: k / e >= 0.6,
        });
    }
  }
  for (const s of r.sustained.filter((x) => x.rateLabel === 'half' && !x.skipped)) {
    const p99 = s.figures.latencyP99Ms?.median;
    out.push({
      goal: `p99 latency at half the max rate, ${s.topology === 'embedded' ? 'embedded' : `Kafka → ${s.store}`}, ${s.tier}${label(s.source)}`,
      target: '≤ 1 s',
      measured: p99 === undefined ? 'not measured' : `${Math.round(p99)} ms at ${s.targetRate} posts/s`,
      met: p99 === undefined ? undefined : p99 <= 1000,
      ...(p99 !== undefined && p99 > 1000 ? { note: `${(p99 / 1000).toFixed(1)}× the target` } : {}),
    });
  }
  return out;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outDir = resolve(REPO, o.outDir);
  mkdirSync(outDir, { recursive: true });
  const tiers = new Map<string, TierInfo>();
  for (const t of o.tiers) {
    const info = tierInfo(t);
    if (info) tiers.set(t, info);
  }
  const results: BenchResults = {
    schema: 'crowdpulse-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    machine: machine(),
    versions: versions(),
    config: { ...o, sections: [...o.sections] },
    models: Object.fromEntries([...tiers].map(([t, i]) => [t, { id: i.id, dir: relative(REPO, i.dir), onnx: relative(REPO, i.onnx), bytes: i.bytes }])),
    topologies: [],
    sideBySide: [],
    sustained: [],
    micro: {},
    goals: [],
    profiles: [],
    notes: [],
  };
  for (const t of o.tiers) if (!tiers.has(t)) results.notes.push(`tier ${t}: models/${t}/model.json is not present, so nothing scored with it`);

  const wantKafka = o.topologies.includes('kafka') && (o.sections.has('throughput') || o.sections.has('sustained') || o.sections.has('micro'));
  const plansPerTopology =
    o.sources.length *
    (o.tiers.length * (o.topologies.includes('embedded') ? 1 : 0) + o.tiers.length * (o.topologies.includes('kafka') ? o.kafkaStores.length : 0));
  const steps =
    (o.sections.has('throughput') ? plansPerTopology * (o.repeats + (o.warmUpPosts > 0 ? 1 : 0)) : 0) +
    (o.sections.has('side-by-side') ? (2 * o.tiers.length + 2) * o.repeats + 1 : 0) +
    (o.sections.has('sustained') ? (plansPerTopology / o.sources.length) * o.sustainedSources.length * o.rates.length * o.sustainedRepeats : 0) +
    (o.sections.has('micro') ? (o.tiers.length + 1 + (wantKafka ? 1 : 0)) * o.microRepeats : 0);
  const progress = new BenchProgress(steps);
  const save = (): void => {
    results.finishedAt = new Date().toISOString();
    const json = JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
    writeFileSync(join(outDir, `${stamp}.json`), json);
    writeFileSync(join(outDir, `${stamp}.md`), markdown(results));
    copyFileSync(join(outDir, `${stamp}.json`), join(outDir, 'latest.json'));
    copyFileSync(join(outDir, `${stamp}.md`), join(outDir, 'latest.md'));
  };
  const services: BenchContext['services'] = { problems: [] };
  const ctx: BenchContext = { options: o, progress, results, tiers, services, save };
  const svcOptions = { kafkaPort: o.kafkaPort, influxPort: o.influxPort, onLog: (l: string) => progress.log(l) };
  const started: Service[] = [];
  const stopServices = async (): Promise<void> => {
    for (const s of started.splice(0)) {
      progress.log(`stopping ${s.name} (bench instance)`);
      await stopService(s, svcOptions);
    }
  };
  process.once('SIGINT', () => {
    void stopServices().finally(() => process.exit(130));
  });

  try {
    if (wantKafka) {
      const present = scriptsPresent();
      const needInflux = o.kafkaStores.includes('influxdb');
      for (const name of ['kafka', 'influxdb'] as const) {
        if (name === 'influxdb' && !needInflux) continue;
        if (!present[name]) {
          services.problems.push(`scripts/${name === 'kafka' ? 'kafka' : 'influxdb'}.sh not present`);
          continue;
        }
        const r = await ensureService(name, svcOptions);
        if (r.service) {
          services[name] = r.service;
          if (r.service.startedByBench) started.push(r.service);
          (results.versions as Record<string, string>)[name] = r.service.version;
        } else services.problems.push(r.problem ?? `${name} did not start`);
      }
      for (const p of services.problems) results.notes.push(`Kafka topology: ${p}`);
    }

    const maxRates = new Map<string, number>();
    if (o.sections.has('throughput')) {
      const plans = throughputPlans(ctx);
      results.topologies = await runPlans(
        ctx,
        plans,
        o.repeats,
        (r) => {
          results.topologies = r;
          save();
        },
        o.warmUpPosts,
      );
      plans.forEach((p, i) => {
        const pps = results.topologies[i]?.figures.postsPerSecond?.median;
        if (pps) maxRates.set(planName(p), pps);
      });
    }
    if (o.sections.has('side-by-side')) {
      results.sideBySide = await sideBySide(ctx, results.topologies);
      save();
    }
    if (o.sections.has('sustained')) {
      if (maxRates.size === 0 && o.rates.some((r) => r === 'half' || r === 'max'))
        results.notes.push('sustained: half/max rates need the throughput section in the same run');
      const sustainedCtx: BenchContext = { ...ctx, options: { ...o } };
      results.sustained = await runPlans(sustainedCtx, sustainedPlans(ctx, maxRates), o.sustainedRepeats, (r) => {
        results.sustained = r;
        save();
      });
    }
    if (o.sections.has('micro')) await micro(ctx);

    results.goals = goals(results);
    save();
    if (o.profile || o.profileAll) {
      // One profile per missed goal, for the first source only (the stages are the same).
      const missed = throughputPlans(ctx).filter(
        (p) =>
          o.profileAll ||
          (p.source === o.sources[0] &&
            results.goals.some(
              (g) =>
                g.met === false &&
                g.goal.includes(`${p.tier} tier`) &&
                (p.topology === 'embedded' ? g.goal.startsWith('embedded') : g.goal.startsWith('Kafka') && p.store === 'influxdb') &&
                (!g.goal.includes('source)') || g.goal.includes(p.source === 'x-emulator' ? 'X emulator source' : 'replay source')),
            )),
      );
      progress.addSteps(missed.length);
      for (const p of missed) {
        const dir = join(outDir, 'tmp', 'profiles', `${stamp}-${planName(p).replace(/[^a-z0-9]+/gi, '-')}`);
        mkdirSync(dir, { recursive: true });
        const run = await runPlan(ctx, p, 0, dir);
        const window = run.startMs !== undefined && run.endMs !== undefined ? { startMs: run.startMs, endMs: run.endMs } : undefined;
        results.profiles.push({
          what: `${planName(p)}: one ${p.posts}-post run under node --cpu-prof (${run.ok ? `${Math.round(run.postsPerSecond ?? 0)} posts/s under the profiler` : 'failed'}), ${window ? 'first ingest → last store only' : 'whole process'}`,
          dir: relative(REPO, dir),
          threads: summariseProfiles(dir, window),
        });
        save();
      }
    }
  } finally {
    await stopServices();
    progress.stop();
    const load = loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ');
    results.notes.push(
      `Load average at the end: ${load} (1/5/15 min) on ${results.machine.cores} cores; the bench's own runs are part of it, anything above ~2 is other work on the machine.`,
    );
    save();
  }
  process.stdout.write(`\n${markdown(results)}\nwritten: ${join(o.outDir, `${stamp}.json`)} and .md (also latest.json, latest.md)\n`);
  const failed = [...results.topologies, ...results.sustained].reduce((a, t) => a + t.failed, 0);
  if (failed > 0) {
    process.stderr.write(`${failed} run(s) failed the correctness check (see the tables)\n`);
    process.exitCode = 1;
  }
}

await main();
