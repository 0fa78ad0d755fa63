/**
 * Shift-detection quality bench (#13 item 5): planted shifts and stationary streams through
 * src/shifts, every threshold calibrated here by measurement. Standalone (bench/run.ts's sections
 * drive topologies and services; this needs neither):
 *
 *   node --import tsx bench/shifts/run.ts                 # the full run, ~5 min on 2 cores
 *   node --import tsx bench/shifts/run.ts --quick         # a smoke run, far fewer trials
 *
 * Options: --trials N [200] per delay cell, --weeks N [100] topic-weeks per stationary rate,
 * --sweep-weeks N [40] per rate and threshold, --seed S [1], --out DIR [bench/results].
 * Writes DIR/shifts-<UTC date>.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SHIFT_DEFAULTS, type ShiftDetectorOptions } from '../../src/shifts/detector.js';
import { calibrated, delayCells, meanShifts, observedCheck, stationaryChecks, sweep, type MethodResult } from './evaluate.js';
import { MEAN_METHODS, VOLUME_GRID } from './methods.js';
import { comparisonTable, delayTable, stationaryTable, sweepTable } from './report.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string' },
    weeks: { type: 'string' },
    'sweep-weeks': { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick === true;
const trials = Number(values.trials ?? (quick ? 30 : 200));
const weeks = Number(values.weeks ?? (quick ? 6 : 100));
const sweepWeeks = Number(values['sweep-weeks'] ?? (quick ? 6 : 40));
const seed = Number(values.seed);
const started = performance.now();
const progress = (s: string): void => void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}\n`);

/** False alarms per topic-week each kind may use, so that both together stay well under the goal's 1. */
const TARGET_PER_WEEK = 0.25;
const SWEEP_RATES = [1, 10, 30];
const RATES = [1, 10, 30, 100];
const SIZES = [0.1, 0.2, 0.4];
/** The method the detector ships: chosen from the comparison below (see the results file for why). */
const CHOSEN = 'cusum 0.1+0.2';

progress('volume threshold sweep');
const volumeSweep = sweep(VOLUME_GRID, SWEEP_RATES, sweepWeeks, seed + 10, (h) => ({ volumeThreshold: h }), progress);
const volumeThreshold = calibrated(volumeSweep, 'volume', TARGET_PER_WEEK);

const results: MethodResult[] = MEAN_METHODS.map((method, m) => {
  progress(`method ${method.name}`);
  const rows = sweep(method.grid, SWEEP_RATES, sweepWeeks, seed + 20, (t) => ({ ...method.options(t), volumeThreshold }), progress);
  const threshold = calibrated(rows, 'mean', TARGET_PER_WEEK);
  const cells = delayCells(meanShifts(SIZES, RATES), trials, seed + 1000 * (m + 1), { ...method.options(threshold), volumeThreshold }, progress);
  return { method, sweep: rows, threshold, cells };
});
const score = (r: MethodResult): number => r.cells.reduce((a, c) => a + c.summary.within10 + c.summary.within60, 0) / r.cells.length;
const chosen = results.find((r) => r.method.name === CHOSEN) as MethodResult;
const options: ShiftDetectorOptions = { ...chosen.method.options(chosen.threshold), volumeThreshold };

progress('chosen method: more rates, volume shifts, stationary streams');
const extra = delayCells(
  [50].flatMap((postsPerMinute) => [0.2].map((size) => ({ kind: 'mean' as const, size, postsPerMinute }))),
  trials,
  seed + 50_000,
  options,
  progress,
);
const volumeCells = delayCells(
  [1, 10, 100].flatMap((postsPerMinute) => [3, 0.3].map((size) => ({ kind: 'volume' as const, size, postsPerMinute }))),
  trials,
  seed + 60_000,
  options,
  progress,
);
const stationary = stationaryChecks(RATES, weeks, seed + 70_000, options, 0, progress);
const diurnal = stationaryChecks([1, 10, 100], Math.max(2, Math.round(weeks / 5)), seed + 80_000, options, 0.3, progress);
progress('stationary through observe()');
const observed = observedCheck(10, Math.max(2, Math.round(weeks / 25)), 4, seed + 90_000, options);

const allCells = [...chosen.cells, ...extra].sort((a, b) => a.shift.size - b.shift.size || a.shift.postsPerMinute - b.shift.postsPerMinute);
const sds = results.flatMap((r) => r.cells.flatMap((c) => c.outcomes.map((o) => o.perPostSd)));
const goalCells = allCells.filter((c) => c.shift.size === 0.2 && c.shift.postsPerMinute >= 10);
const worstWeek = Math.max(...stationary.map((s) => (s.outcome.meanAlarms + s.outcome.volumeAlarms) / (s.outcome.topicDays / 7)));
const totalWeeks = stationary.reduce((a, s) => a + s.outcome.topicDays / 7, 0);
const totalAlarms = stationary.reduce((a, s) => a + s.outcome.meanAlarms + s.outcome.volumeAlarms, 0);
const defaultsMatch =
  SHIFT_DEFAULTS.meanLogHorizon === chosen.threshold &&
  SHIFT_DEFAULTS.volumeThreshold === volumeThreshold &&
  SHIFT_DEFAULTS.meanShifts.join() === (options.meanShifts ?? []).join() &&
  SHIFT_DEFAULTS.baselineUncertainty === options.baselineUncertainty;
const seconds = (performance.now() - started) / 1000;
const pct = (x: number): string => `${Math.round(100 * x)} %`;
const lowRate = [...allCells, ...volumeCells]
  .filter((c) => c.shift.postsPerMinute === 1)
  .map((c) => `${c.shift.kind === 'mean' ? `a ${c.shift.size} shift` : `volume ×${c.shift.size}`} ${pct(c.summary.within60)} within 60 min`)
  .join(', ');
const at10 = results.map((r) => r.cells.find((c) => c.shift.size === 0.2 && c.shift.postsPerMinute === 10)?.summary.within10 ?? Number.NaN);

/** Earlier, shorter runs that shaped the settings this script calibrates (same generator, not rerun here). */
const EXPLORATION = `### Also tried (exploration runs before this script; their numbers, not rerun here)
- Baseline uncertainty c (standard errors the baseline mean is moved against each side): c = 1 gave 0.45 mean
  alarms per topic-week at 10 posts/min, c = 2 gave 0.17 (one CUSUM tuned to δ = 0.15, h = 9.5, 60 topic-weeks). c = 2 kept.
- Warm-up posts: 30 gave 0.15 mean alarms per topic-week at 1 post/min, 100 gave 0.07 (40 topic-weeks); the extra
  alarms came right after warm-up, on baselines of 36–78 posts. 100 kept.
- A CUSUM with a known baseline (true mean and sd) and the level h + ln(λ₀θ²) had level false alarms from 1 to
  30 posts/min (0.15–0.25 per topic-week at h ≈ 10.6): the rate term is right for the mean; what is left at
  1 post/min comes from estimating a baseline of ~240 posts.
- Volume: the same rate term on the Poisson CUSUM gave 0.80 alarms per topic-week at 1 post/min against 0.07 at 10
  (h = 9.5): dropped, one level for all rates. With a ±30 % daily rate cycle at 10 posts/min, a 240-bucket volume
  baseline gave 2.40 alarms per topic-week (3.05 without the dispersion factor), 120 buckets 0.30, 60 buckets 0.10;
  tuning to ×2.5 / ×0.4 instead of ×2 / ×0.5 changed little (0.05). 60 buckets kept.
- One CUSUM tuned to δ = 0.15 (h = 9.5): a 0.2 shift at 30 posts/min 52 % within 10 min, median 9.8 min, and a
  0.1 shift 53 % within 60 min (100 trials) — between the single 0.2 chart and the two charts below.`;
const now = new Date();

const md = `# Shift detection quality — ${now.toISOString().slice(0, 10)}

Measured by \`node --import tsx bench/shifts/run.ts${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}\` in ${(seconds / 60).toFixed(1)} min
(Node ${process.version}, ${trials} trials per delay cell, ${weeks} topic-weeks per stationary rate, ${sweepWeeks} per sweep point, seed ${seed}).

## Streams
- Posts arrive as a Poisson process; each gets a label from a neg/neu/pos mix (negative and positive shares
  uniform in 0.25–0.4 per topic) and a score N(−0.8 / 0 / +0.8, 0.25²) clipped to [−1, 1]: per-post sd
  ${Math.min(...sds).toFixed(2)}–${Math.max(...sds).toFixed(2)} over the trials' topics.
- A mean shift moves share to one pole (half from the other pole, half from neutral) so that the expected
  clipped score moves by exactly 0.1 / 0.2 / 0.4, at a time uniform within a minute after ${300} stationary
  minutes; direction random. A trial waits up to 360 min; delay = end of the bucket that reported it − the change.
- A volume shift multiplies the rate (×3, ×0.3), mix unchanged.
- Delay trials feed every post through \`ShiftDetector.observe()\` and advance the watermark at every
  bucket end (60 s buckets). Stationary runs of a week per topic feed per-bucket sums (drawn post by post)
  straight into the topic's tests, the same code \`advance()\` runs; one check below runs them through
  \`observe()\` too.

## Methods tried (mean shifts)
Every threshold below was calibrated here: the most sensitive value of its grid whose false alarms stay
≤ ${TARGET_PER_WEEK} per topic-week at each of ${SWEEP_RATES.join(', ')} posts/min (${sweepWeeks} topic-weeks each), so that
mean and volume alarms together stay well under the goal's 1 per week. (At 100 posts/min every method's
false alarms were lower still, see the final stationary table.)

${results.map((r) => `- **${r.method.name}**: ${r.method.description}. Calibrated ${r.method.threshold} = ${r.threshold}.`).join('\n')}

${results.map((r) => `### ${r.method.name}: false alarms by threshold\n\n${sweepTable(r.sweep, r.method.threshold, 'mean')}`).join('\n\n')}

### Detection, each method at its calibrated threshold

${comparisonTable(results)}

Score (mean of detected-≤-10-min + detected-≤-60-min over the cells, higher is better):
${results.map((r) => `${r.method.name} ${score(r).toFixed(3)}`).join(', ')}.

### Volume threshold
Two quasi-Poisson CUSUMs tuned to ×2 and ×0.5, divided by the baseline's dispersion, baseline rate moved by
2 standard errors against each; a 60-bucket baseline (doubled up to 240 while it holds < 100 posts); one
alarm level at every rate.

${sweepTable(volumeSweep, 'volumeThreshold h', 'volume')}

Calibrated volumeThreshold = ${volumeThreshold}.

${EXPLORATION}

## Chosen: ${chosen.method.name} (${chosen.method.threshold} = ${chosen.threshold}), volume h = ${volumeThreshold}
The detector's defaults (\`SHIFT_DEFAULTS\` in src/shifts/detector.ts) ${defaultsMatch ? 'are exactly these values' : '**differ from these values**'}.

### Mean shifts

${delayTable(allCells)}

### Volume shifts

${delayTable(volumeCells)}

### False alarms on stationary streams

${stationaryTable([...stationary, ...diurnal, observed])}

Over the constant-rate runs: ${totalAlarms} alarms (mean and volume together) in ${totalWeeks.toFixed(0)} topic-weeks; the worst rate
had ${worstWeek.toFixed(2)} per topic-week.

## Why a 0.2 shift at 10 posts/min cannot be caught within 10 minutes at ≤ 1 false alarm a week
Ten minutes at 10 posts/min are ~95 posts after the change; with a per-post sd of 0.64 their mean has a standard
error of 0.066, so a 0.2 shift is 3.0 standard errors — before any uncertainty in the baseline. A detector that
looks every minute for a week must demand about 4.5–4.7 standard errors to keep its false alarms under a few
tenths a week (the window scan's calibrated z above; the CUSUMs behave alike), so it catches such a shift by
minute 10 only when the noise adds ~1.6 standard errors: a few percent of trials, as measured
(${at10.map((x) => pct(x)).join(', ')} for the three methods). Even a threshold of 3.5, far too low for the
false-alarm goal, would catch ~30 %. 95 % within 10 min needs 4.6 + 1.645 ≈ 6.25 standard errors, i.e. ~40+
posts/min at this sd: measured, ${goalCells.map((c) => `${pct(c.summary.within10)} at ${c.shift.postsPerMinute}`).join(', ')} posts/min.

## Goals

| goal | measured | met |
| --- | --- | --- |
${goalCells.map((c) => `| 0.2 shift at ${c.shift.postsPerMinute} posts/min detected within 10 min in ≥ 95 % of trials | ${(100 * c.summary.within10).toFixed(0)} % (median ${c.summary.medianDelay.toFixed(1)} min) | ${c.summary.within10 >= 0.95 ? 'yes' : '**no**'} |`).join('\n')}
| ≤ 1 false alarm per topic per simulated week (stationary, mean + volume) | worst rate ${worstWeek.toFixed(2)}; ${totalAlarms} in ${totalWeeks.toFixed(0)} topic-weeks | ${worstWeek <= 1 ? 'yes' : '**no**'} |

Not met, besides the 10 minutes at 10 and 30 posts/min above: at 1 post/min no mean shift is caught within 10 minutes —
${lowRate}. A shift of 0.1 needs ~100 posts/min to be caught within 10 minutes half the time.
`;

mkdirSync(values.out, { recursive: true });
const file = join(values.out, `shifts-${now.toISOString().slice(0, 10)}${quick ? '-quick' : ''}.md`);
writeFileSync(file, md);
progress(`wrote ${file}`);
process.stdout.write(md);
