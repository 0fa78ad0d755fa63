import { SHIFT_DEFAULTS, type ShiftDetectorOptions } from '../../src/shifts/detector.js';
import { geometricWindows, WindowScan } from './window-scan.js';

/** A mean-shift method the bench compares, with the threshold it calibrates. */
export interface MeanMethod {
  readonly name: string;
  readonly description: string;
  /** What the swept threshold is called. */
  readonly threshold: string;
  /** Swept values, from the most sensitive. */
  readonly grid: readonly number[];
  /** Detector options at one threshold (the volume test's are added by the caller). */
  options(threshold: number): ShiftDetectorOptions;
}

const cusum = (shifts: readonly number[], grid: readonly number[]): MeanMethod => ({
  name: `cusum ${shifts.join('+')}`,
  description: `per-post CUSUM chart${shifts.length > 1 ? 's' : ''} tuned to δ = ${shifts.join(' and ')}, baseline moved by 2 standard errors, level h + ln(λ₀θ²)`,
  threshold: 'meanLogHorizon h',
  grid,
  options: (h) => ({ meanShifts: shifts, meanLogHorizon: h, baselineUncertainty: 2 }),
});

export const MEAN_METHODS: readonly MeanMethod[] = [
  cusum([0.2], [8.25, 8.5, 8.75, 9, 9.25]),
  cusum([0.1, 0.2], [8.75, 9, 9.25, 9.5, 9.75]),
  {
    name: 'window scan',
    description: 'two-sample z of the last w buckets vs the 240 before, w on a 1.4× grid 1…240, |Δ| ≥ 0.075; Bonferroni over a week of looks gives z = 4.52',
    threshold: 'z',
    grid: [4.5, 4.6, 4.7, 4.8],
    options: (z) => ({
      baselineUncertainty: 2,
      createMeanTest: () =>
        new WindowScan({
          windows: geometricWindows(SHIFT_DEFAULTS.maxPendingBuckets),
          z,
          minEffect: 0.075,
          baselineBuckets: SHIFT_DEFAULTS.baselineBuckets,
          minWindowPosts: 2,
          minStdDev: 0.1,
        }),
    }),
  },
];

/** The volume test's swept threshold (quasi-Poisson CUSUMs tuned to ×2 and ×0.5). */
export const VOLUME_GRID: readonly number[] = [8.75, 9.25, 9.75, 10.25, 10.75];
