import { sampleStdDev } from '../query/intervals.js';
import type { ChangeDetection, ChangeTest, ChangeTestInput, ShiftDirection } from './change-test.js';

export interface MeanCusumOptions {
  /** Mean-score changes (score units) the charts are tuned to, one chart each; a change of half the smallest or less never fires. */
  readonly shifts: readonly number[];
  /** Threshold constant: a chart's alarm level is `logHorizon + ln(λ₀θ²)` in log-likelihood units (below). */
  readonly logHorizon: number;
  /** The alarm level never drops below this (log-likelihood units), however few posts a bucket holds. */
  readonly minThreshold: number;
  /** The baseline mean is moved against each side by this many of its standard errors. */
  readonly baselineUncertainty: number;
  /** Floor of the baseline's per-post standard deviation (a topic of identical scores would make every change infinitely significant). */
  readonly minStdDev: number;
}

/** One chart: the two one-sided sums for one tuned change and where each excursion began. */
interface Chart {
  readonly shift: number;
  up: number;
  down: number;
  upFrom: number;
  downFrom: number;
}

/**
 * CUSUMs of the mean score, per post, in log-likelihood units. For a chart tuned to a change δ, a
 * bucket of n posts with score sum s, against a baseline of N₀ posts with mean μ₀ and per-post sd
 * σ₀, adds (δ/σ₀²)·(s − n·(μ₀ + δ/2 + c·σ₀/√N₀)) to the upper sum, floored at 0 (the lower one
 * mirrored). A change of δ/2 or less drifts a chart downwards, whatever the rate. Several charts
 * (small and large δ) cover a range of changes; each fires on its own.
 *
 * The alarm level grows with the rate: a CUSUM's false alarms come per post (Siegmund: in-control
 * run length ≈ 2·eʰ/θ² posts, θ = δ/σ₀), so for a fixed false-alarm rate per *bucket* the level is
 * h = logHorizon + ln(λ₀θ²), λ₀ the baseline's posts per bucket. Empty buckets add nothing.
 */
export class MeanCusum implements ChangeTest {
  private readonly charts: Chart[];

  constructor(private readonly options: MeanCusumOptions) {
    if (options.shifts.length === 0 || options.shifts.some((s) => !(s > 0)))
      throw new RangeError(`mean CUSUM shifts must be > 0, got ${options.shifts.join(', ')}`);
    this.charts = options.shifts.map((shift) => ({ shift, up: 0, down: 0, upFrom: 0, downFrom: 0 }));
  }

  get chartCount(): number {
    return this.charts.length;
  }

  reset(nextBucket: number): void {
    for (const c of this.charts) {
      c.up = 0;
      c.down = 0;
      c.upFrom = nextBucket;
      c.downFrom = nextBucket;
    }
  }

  pendingFrom(): number {
    return Math.min(...this.charts.map((c) => Math.min(c.upFrom, c.downFrom)));
  }

  candidate(direction: ShiftDirection, chart = 0): number {
    const c = this.charts[chart] as Chart;
    return direction === 'up' ? c.upFrom : c.downFrom;
  }

  update({ bucket, stats, baseline }: ChangeTestInput): ChangeDetection | null {
    const next = bucket + 1;
    if (stats.n === 0 || baseline.n < 2 || baseline.buckets === 0) {
      for (const c of this.charts) {
        if (c.up === 0) c.upFrom = next;
        if (c.down === 0) c.downFrom = next;
      }
      return null;
    }
    const { baselineUncertainty, minStdDev, logHorizon, minThreshold } = this.options;
    const mean0 = baseline.sum / baseline.n;
    const sd0 = Math.max(minStdDev, sampleStdDev(baseline.n, baseline.sum, baseline.sumOfSquares));
    const uncertainty = (baselineUncertainty * sd0) / Math.sqrt(baseline.n);
    const postsPerBucket = baseline.n / baseline.buckets;
    let fired: (ChangeDetection & { excess: number }) | undefined;
    this.charts.forEach((c, chart) => {
      const margin = c.shift / 2 + uncertainty;
      const scale = c.shift / (sd0 * sd0);
      const wasUp = c.up;
      const wasDown = c.down;
      c.up = Math.max(0, wasUp + scale * (stats.sum - stats.n * (mean0 + margin)));
      c.down = Math.max(0, wasDown + scale * (stats.n * (mean0 - margin) - stats.sum));
      if (c.up === 0) c.upFrom = next;
      else if (wasUp === 0) c.upFrom = bucket;
      if (c.down === 0) c.downFrom = next;
      else if (wasDown === 0) c.downFrom = bucket;
      const theta = c.shift / sd0;
      const level = Math.max(minThreshold, logHorizon + Math.log(postsPerBucket * theta * theta));
      for (const [direction, sum, from] of [
        ['up', c.up, c.upFrom],
        ['down', c.down, c.downFrom],
      ] as const) {
        const excess = sum / level;
        if (excess >= 1 && (fired === undefined || excess > fired.excess)) fired = { direction, changeBucket: from, chart, excess };
      }
    });
    if (fired === undefined) return null;
    return { direction: fired.direction, changeBucket: fired.changeBucket, chart: fired.chart };
  }
}
