import type { ShiftDetectorOptions } from '../../src/shifts/detector.js';
import type { MeanMethod } from './methods.js';
import { summarise, type DelaySummary } from './summary.js';
import {
  runDelayTrial,
  runStationary,
  runStationaryObserved,
  type PlantedShift,
  type StationaryOutcome,
  type TrialOutcome,
  type TrialTiming,
} from './trials.js';

export const TIMING: TrialTiming = { preMinutes: 300, horizonMinutes: 360 };

/** False alarms per topic-week from a stationary outcome. */
export const perWeek = (alarms: number, o: StationaryOutcome): number => alarms / (o.topicDays / 7);

export interface SweepRow {
  readonly threshold: number;
  /** Per swept rate: stationary outcome. */
  readonly byRate: readonly { readonly postsPerMinute: number; readonly outcome: StationaryOutcome }[];
}

/** Stationary false alarms at every threshold of a grid (each rate its own seed, the same for every threshold). */
export function sweep(
  grid: readonly number[],
  rates: readonly number[],
  topicWeeks: number,
  seed: number,
  optionsAt: (t: number) => ShiftDetectorOptions,
  progress: (s: string) => void,
): SweepRow[] {
  return grid.map((threshold) => {
    progress(`sweep ${threshold}`);
    return {
      threshold,
      byRate: rates.map((postsPerMinute, i) => ({ postsPerMinute, outcome: runStationary({ postsPerMinute, topicWeeks }, seed + i, optionsAt(threshold)) })),
    };
  });
}

/** The most sensitive threshold whose false alarms per topic-week stay ≤ target at every rate swept (the least sensitive if none). */
export function calibrated(rows: readonly SweepRow[], kind: 'mean' | 'volume', target: number): number {
  const ok = rows.find((r) => r.byRate.every(({ outcome }) => perWeek(kind === 'mean' ? outcome.meanAlarms : outcome.volumeAlarms, outcome) <= target));
  const fallback = rows.at(-1);
  if (fallback === undefined) throw new RangeError('an empty sweep');
  return (ok ?? fallback).threshold;
}

export interface DelayCell {
  readonly shift: PlantedShift;
  readonly summary: DelaySummary;
  readonly outcomes: readonly TrialOutcome[];
}

/** `trials` delay trials per (kind, size, rate), every post through observe(). */
export function delayCells(
  shifts: readonly PlantedShift[],
  trials: number,
  seed: number,
  options: ShiftDetectorOptions,
  progress: (s: string) => void,
): DelayCell[] {
  return shifts.map((shift, cell) => {
    progress(`delays ${shift.kind} ${shift.size} at ${shift.postsPerMinute}/min`);
    const outcomes = Array.from({ length: trials }, (_, i) => runDelayTrial(shift, seed + cell * 100_003 + i, TIMING, options));
    return { shift, summary: summarise(outcomes), outcomes };
  });
}

export function meanShifts(sizes: readonly number[], rates: readonly number[]): PlantedShift[] {
  return rates.flatMap((postsPerMinute) => sizes.map((size) => ({ kind: 'mean' as const, size, postsPerMinute })));
}

export interface MethodResult {
  readonly method: MeanMethod;
  readonly sweep: readonly SweepRow[];
  readonly threshold: number;
  readonly cells: readonly DelayCell[];
}

export interface StationaryCheck {
  readonly label: string;
  readonly postsPerMinute: number;
  readonly outcome: StationaryOutcome;
}

export function stationaryChecks(
  rates: readonly number[],
  topicWeeks: number,
  seed: number,
  options: ShiftDetectorOptions,
  diurnalAmplitude: number,
  progress: (s: string) => void,
): StationaryCheck[] {
  return rates.map((postsPerMinute, i) => {
    progress(`stationary ${postsPerMinute}/min${diurnalAmplitude > 0 ? ` ±${diurnalAmplitude * 100} % diurnal` : ''}`);
    return {
      label: diurnalAmplitude > 0 ? `±${Math.round(diurnalAmplitude * 100)} % diurnal cycle` : 'constant rate',
      postsPerMinute,
      outcome: runStationary({ postsPerMinute, topicWeeks, diurnalAmplitude }, seed + i, options),
    };
  });
}

export function observedCheck(postsPerMinute: number, topicWeeks: number, topics: number, seed: number, options: ShiftDetectorOptions): StationaryCheck {
  return {
    label: `through observe(), ${topics} topics at once`,
    postsPerMinute,
    outcome: runStationaryObserved({ postsPerMinute, topicWeeks, topics }, seed, options),
  };
}
