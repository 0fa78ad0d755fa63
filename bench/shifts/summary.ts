import type { TrialOutcome } from './trials.js';

export interface DelaySummary {
  readonly trials: number;
  readonly within10: number;
  readonly within60: number;
  /** Minutes; Infinity where at least that share of trials went undetected within the horizon. */
  readonly medianDelay: number;
  readonly p95Delay: number;
  readonly wrongDirection: number;
  readonly falseAlarms: { readonly mean: number; readonly volume: number };
}

/** Nearest-rank quantile of delays, undetected trials counting as infinitely late. */
export function delayQuantile(delays: readonly number[], q: number): number {
  if (delays.length === 0) return Number.NaN;
  const sorted = [...delays].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function summarise(outcomes: readonly TrialOutcome[]): DelaySummary {
  const delays = outcomes.map((o) => o.delayMinutes ?? Infinity);
  const share = (limit: number): number => delays.filter((d) => d <= limit).length / outcomes.length;
  return {
    trials: outcomes.length,
    within10: share(10),
    within60: share(60),
    medianDelay: delayQuantile(delays, 0.5),
    p95Delay: delayQuantile(delays, 0.95),
    wrongDirection: outcomes.reduce((a, o) => a + o.wrongDirection, 0),
    falseAlarms: {
      mean: outcomes.reduce((a, o) => a + o.falseAlarms.mean, 0),
      volume: outcomes.reduce((a, o) => a + o.falseAlarms.volume, 0),
    },
  };
}
