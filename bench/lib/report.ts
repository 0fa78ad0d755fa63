/** bench/results/*.md: the tables a reader quotes, made from the results JSON only. */
import type { BenchResults, TopologyResult } from './results.js';
import type { Spread } from './stats.js';

const num = (x: number | undefined, digits = 0): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** "median (min–max)", or just the median when there was one sample. */
export function fmt(s: Spread | undefined, digits = 0, unit = ''): string {
  if (!s || !Number.isFinite(s.median)) return 'n/a';
  const m = `${num(s.median, digits)}${unit}`;
  return s.samples.length > 1 ? `${m} (${num(s.min, digits)}–${num(s.max, digits)})` : m;
}

const ms = (s: Spread | undefined): string => fmt(s, s && s.median < 10 ? 1 : 0, ' ms');

function processCells(t: TopologyResult): { cpu: string; rss: string } {
  const roles = Object.entries(t.processFigures);
  return {
    cpu: roles.map(([role, f]) => `${role} ${fmt(f.cpuSeconds, 1)}`).join('<br>'),
    rss: roles.map(([role, f]) => `${role} ${fmt(f.peakRssMiB, 0)}`).join('<br>'),
  };
}

const sourceName = (t: TopologyResult): string => (t.source === 'x-emulator' ? 'X API emulator → X client → ' : 'replay → ');
const topologyName = (t: TopologyResult): string =>
  sourceName(t) +
  (t.topology === 'embedded'
    ? 'embedded (`crowdpulse run`, SQLite)'
    : `ingest → Kafka → analyze → Kafka → store → ${t.store === 'influxdb' ? 'InfluxDB' : 'SQLite'}`);

export function markdown(r: BenchResults): string {
  const L: string[] = [];
  const c = r.config;
  L.push(`# crowdpulse bench — ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`, '');
  L.push(`Command: \`${r.command}\``, '');
  L.push(
    `Machine: ${r.machine.cpuModel}, ${r.machine.cores} cores @ ${r.machine.clockMHz} MHz (nominal), AVX-512 VNNI ${r.machine.vnni ? 'yes' : 'no'}, ${r.machine.memoryGiB} GiB, ${r.machine.os}, kernel ${r.machine.kernel}${r.machine.hypervisor ? ', virtual machine' : ''}; load average at start ${r.machine.loadAverageAtStart.join(' / ')}.`,
  );
  L.push(
    `Versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  L.push(
    `Models: ${
      Object.entries(r.models)
        .map(([tier, m]) => `${tier} = \`${m.id}\` (${(m.bytes / 2 ** 20).toFixed(1)} MiB ONNX)`)
        .join(', ') || 'none'
    }.`,
  );
  const tierPosts = Object.entries((c.tierPosts ?? {}) as Record<string, number>);
  const postsText = `${String(c.posts)} posts${tierPosts.length > 0 ? ` (${tierPosts.map(([t, n]) => `${t}: ${n}`).join(', ')})` : ''}`;
  L.push(
    `Configuration: ${postsText} from \`${String(c.fixture)}\` (a run that needs more posts than it holds: a larger recording generated with its seed by \`bench/fixtures/generate.ts\`; sources: ${(c.sources as string[]).join(', ')}; the X API emulator serves the posts that match \`rules.example.yaml\`, with topics from those rules), ${String(c.repeats)} repeats; every figure is the median with min–max over the repeats that passed the correctness check (store holds exactly the expected rows per topic, dead letters as planted).`,
    '',
  );

  if (r.goals.length > 0) {
    L.push('## Goals', '', '| goal | target | measured | met |', '| --- | --- | --- | --- |');
    for (const g of r.goals)
      L.push(`| ${g.goal} | ${g.target} | ${g.measured} | ${g.met === undefined ? 'not measured' : g.met ? 'yes' : `**no**${g.note ? ` — ${g.note}` : ''}`} |`);
    L.push('');
  }

  if (r.topologies.length > 0) {
    L.push(`## End to end: ${postsText}, unpaced`, '');
    L.push(
      'Throughput = posts / (first post ingested → last post stored). Latency = ingested → stored per post. CPU = CPU seconds of each process over its whole life, all threads (startup and model load included; for the broker and influxd, during the run only); RSS = peak resident MiB.',
      '',
    );
    L.push(
      '| topology | tier | posts/s | time (s) | p50 | p95 | p99 | CPU (s) | peak RSS (MiB) | runs ok |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of r.topologies) {
      if (t.skipped) {
        L.push(`| ${topologyName(t)} | ${t.tier} | skipped: ${t.skipped} | | | | | | | |`);
        continue;
      }
      const p = processCells(t);
      L.push(
        `| ${topologyName(t)} | ${t.tier} | ${fmt(t.figures.postsPerSecond)} | ${fmt(t.figures.seconds, 2)} | ${ms(t.figures.latencyP50Ms)} | ${ms(t.figures.latencyP95Ms)} | ${ms(t.figures.latencyP99Ms)} | ${p.cpu} | ${p.rss} | ${t.runs.length - t.failed}/${t.runs.length} |`,
      );
    }
    const sources = [
      ...new Set(
        [...r.topologies, ...r.sustained]
          .filter((t) => t.latencySource && !t.latencySource.startsWith('stored rows'))
          .map((t) => `${topologyName(t)}: latency ${t.latencySource}`),
      ),
    ];
    if (sources.length > 0) L.push('', ...sources.map((x) => `- ${x}.`));
    const failures = r.topologies.flatMap((t) => t.runs.filter((x) => !x.ok).map((x) => `${t.topology}/${t.tier}: ${x.problems.join('; ')}`));
    if (failures.length > 0) L.push('', 'Failed runs (not counted):', ...failures.map((f) => `- ${f}`));
    L.push('');
  }

  if (r.sideBySide.length > 0) {
    L.push(
      '## Side by side: same posts, same model',
      '',
      'The crowdpulse figure is the embedded end-to-end throughput above (source → analyze → SQLite, replay source where measured); the other analysers only analyse.',
      '',
    );
    L.push('| tier | analyser | posts | posts/s | crowdpulse embedded ÷ this |', '| --- | --- | --- | --- | --- |');
    for (const s of r.sideBySide) {
      L.push(
        `| ${s.tier} | ${s.analyser}: ${s.description} | ${s.posts} | ${s.skipped ? `skipped: ${s.skipped}` : fmt(s.postsPerSecond)} | ${s.crowdpulseSpeedup === undefined ? 'n/a' : `${num(s.crowdpulseSpeedup, s.crowdpulseSpeedup < 1 ? 2 : 1)}×`} |`,
      );
    }
    L.push('');
  }

  if (r.sustained.length > 0) {
    L.push(`## Sustained rate (${String(c.durationSeconds)} s per run)`, '');
    L.push('Lag = stored time − the time the post was due by the target schedule; "lag at end" is the last post\'s (how far behind the store finished).', '');
    L.push(
      '| topology | tier | target rate | ingested/s | stored/s | p50 | p99 | max | lag p99 | lag at end | runs ok |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of r.sustained) {
      if (t.skipped) {
        L.push(`| ${topologyName(t)} | ${t.tier} | ${t.rateLabel ?? ''} | skipped: ${t.skipped} | | | | | | | |`);
        continue;
      }
      const target =
        t.targetRate === undefined
          ? `max (${t.posts} posts)`
          : `${t.rateLabel === String(t.targetRate) ? '' : `${t.rateLabel} = `}${num(t.targetRate)}/s${t.durationSeconds !== undefined && t.posts < t.targetRate * t.durationSeconds * 0.9 ? ` (above max: ${t.posts} posts offered)` : ''}`;
      L.push(
        `| ${topologyName(t)} | ${t.tier} | ${target} | ${fmt(t.figures.ingestPostsPerSecond)} | ${fmt(t.figures.postsPerSecond)} | ${ms(t.figures.latencyP50Ms)} | ${ms(t.figures.latencyP99Ms)} | ${ms(t.figures.latencyMaxMs)} | ${ms(t.figures.lagP99Ms)} | ${ms(t.figures.lagEndMs)} | ${t.runs.length - t.failed}/${t.runs.length} |`,
      );
    }
    L.push('');
  }

  const micro = r.micro as Record<string, { markdown?: string }>;
  const microParts = Object.values(micro)
    .map((m) => m.markdown)
    .filter((m): m is string => typeof m === 'string');
  if (microParts.length > 0) {
    L.push('## Micro-benchmarks per stage', '');
    L.push(...microParts);
  }

  if (r.profiles.length > 0) {
    L.push('## Where the time goes', '');
    for (const p of r.profiles) {
      L.push(
        `### ${p.what}`,
        '',
        `Profiles in \`${p.dir}\` (open in Chrome DevTools or speedscope). Per thread: share of the window busy (not idle), of it in GC, and the functions with the most self time.`,
        '',
      );
      L.push('| thread | busy | GC | top functions by self time (share of the window) |', '| --- | --- | --- | --- |');
      for (const t of p.threads) {
        const top = t.top.map((h) => `${h.fn} ${h.where ? `(${h.where})` : '(native)'} ${num(h.share * 100, 1)}%`).join('<br>');
        L.push(`| ${t.thread} | ${num(t.busyShare * 100, 0)}% | ${num(t.gcShare * 100, 1)}% | ${top} |`);
      }
      L.push('');
    }
  }
  if (r.notes.length > 0) L.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}
