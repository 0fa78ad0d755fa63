import {
  meanCusumOf,
  SHIFT_DEFAULTS,
  ShiftDetector,
  topicOptionsOf,
  volumeCusumOf,
  type ShiftDetectorOptions,
  type ShiftEvent,
} from '../../src/shifts/detector.js';
import { TopicShifts } from '../../src/shifts/topic-shifts.js';
import { Random } from './random.js';
import { randomMix, shiftedMix, sdOf } from './score-model.js';
import { bucketSumsOf, postsOf } from './streams.js';

const MINUTE = 60_000;
/** Simulated streams start here (any UTC minute would do). */
export const EPOCH_MS = Date.UTC(2026, 0, 5);

/** A planted change: the mean moves by `size` (score units), or the rate is multiplied by `size`. */
export interface PlantedShift {
  readonly kind: 'mean' | 'volume';
  readonly size: number;
  readonly postsPerMinute: number;
}

export interface TrialTiming {
  /** Stationary minutes before the change (the baseline fills). */
  readonly preMinutes: number;
  /** Minutes after the change the trial waits for a detection. */
  readonly horizonMinutes: number;
}

export interface TrialOutcome {
  /** Minutes from the planted change to the end of the bucket that reported it; null: not within the horizon. */
  readonly delayMinutes: number | null;
  /** Alarms not explained by the planted change: any before it, the other kind's after it. */
  readonly falseAlarms: { readonly mean: number; readonly volume: number };
  /** Alarms of the planted kind in the wrong direction after the change. */
  readonly wrongDirection: number;
  /** The event that reported the change. */
  readonly event: ShiftEvent | undefined;
  readonly changeAtMs: number;
  readonly perPostSd: number;
}

/** One delay trial, every post through observe() and the watermark advanced at every bucket end. */
export function runDelayTrial(shift: PlantedShift, seed: number, timing: TrialTiming, options: ShiftDetectorOptions = {}): TrialOutcome {
  const random = new Random(seed);
  const bucketMs = (options.bucketSeconds ?? SHIFT_DEFAULTS.bucketSeconds) * 1000;
  const direction = shift.kind === 'mean' ? (random.uniform() < 0.5 ? 'up' : 'down') : shift.size > 1 ? 'up' : 'down';
  const mix = randomMix(random);
  const after = shift.kind === 'mean' ? shiftedMix(mix, shift.size, direction) : mix;
  const startMs = EPOCH_MS + Math.floor(random.uniform() * 1440) * MINUTE;
  const changeAtMs = startMs + timing.preMinutes * MINUTE + random.uniform() * bucketMs;
  const endMs = changeAtMs + timing.horizonMinutes * MINUTE;
  const rateAfter = shift.kind === 'volume' ? shift.postsPerMinute * shift.size : shift.postsPerMinute;
  const detector = new ShiftDetector(options);
  detector.advance(startMs);
  const falseAlarms = { mean: 0, volume: 0 };
  let wrongDirection = 0;
  let found: ShiftEvent | undefined;
  const judge = (events: readonly ShiftEvent[]): void => {
    for (const e of events) {
      const at = Date.parse(e.detectedAt);
      if (at <= changeAtMs || e.kind !== shift.kind) falseAlarms[e.kind] += 1;
      else if (e.direction !== direction) wrongDirection += 1;
      else found ??= e;
    }
  };
  let boundary = (Math.floor(startMs / bucketMs) + 1) * bucketMs;
  const segments = [
    { fromMs: startMs, postsPerMinute: shift.postsPerMinute, mix },
    { fromMs: changeAtMs, postsPerMinute: rateAfter, mix: after },
  ];
  const stream = postsOf(random, segments, endMs, `s${seed}`);
  for (let next = stream.next(); found === undefined; next = stream.next()) {
    const at = next.done === true ? endMs : next.value.createdAtMs;
    while (boundary <= at && found === undefined) {
      judge(detector.advance(boundary));
      boundary += bucketMs;
    }
    if (next.done === true || found !== undefined) break;
    detector.observe('topic', next.value.createdAtMs, next.value.score, next.value.id);
  }
  const delayMinutes = found === undefined ? null : (Date.parse(found.detectedAt) - changeAtMs) / MINUTE;
  return { delayMinutes, falseAlarms, wrongDirection, event: found, changeAtMs, perPostSd: sdOf(mix) };
}

export interface StationaryRun {
  readonly postsPerMinute: number;
  readonly topicWeeks: number;
  /** Relative amplitude of a 24 h sinusoidal rate cycle (0: constant rate). */
  readonly diurnalAmplitude?: number;
}

export interface StationaryOutcome {
  readonly topicDays: number;
  readonly meanAlarms: number;
  readonly volumeAlarms: number;
  readonly posts: number;
}

/**
 * Stationary streams, fed per bucket straight into one topic's tests (the sums drawn per bucket,
 * post by post): the long runs for the false-alarm rate. Each topic-week is a fresh topic.
 */
export function runStationary(run: StationaryRun, seed: number, options: ShiftDetectorOptions = {}): StationaryOutcome {
  const random = new Random(seed);
  const { createMeanTest, ...rest } = options;
  const o = { ...SHIFT_DEFAULTS, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) } as typeof SHIFT_DEFAULTS;
  const bucketsPerWeek = Math.round((7 * 24 * 3600) / o.bucketSeconds);
  const bucketMinutes = o.bucketSeconds / 60;
  const amplitude = run.diurnalAmplitude ?? 0;
  let meanAlarms = 0;
  let volumeAlarms = 0;
  let posts = 0;
  for (let week = 0; week < run.topicWeeks; week++) {
    const mix = randomMix(random);
    const phase = random.uniform() * 2 * Math.PI;
    const topic = new TopicShifts(topicOptionsOf(o), { mean: createMeanTest?.() ?? meanCusumOf(o), volume: volumeCusumOf(o) }, 0);
    for (let b = 0; b < bucketsPerWeek; b++) {
      const cycle = 1 + amplitude * Math.sin(phase + (2 * Math.PI * b * bucketMinutes) / 1440);
      const sums = bucketSumsOf(random, run.postsPerMinute * bucketMinutes * cycle, mix);
      posts += sums.n;
      for (const d of topic.closeBucket(b, sums)) {
        if (d.kind === 'mean') meanAlarms += 1;
        else volumeAlarms += 1;
      }
    }
  }
  return { topicDays: (run.topicWeeks * bucketsPerWeek * bucketMinutes) / 1440, meanAlarms, volumeAlarms, posts };
}

/** Stationary streams of several topics at once through observe()/advance(), to check the per-bucket runs against the real path. */
export function runStationaryObserved(run: StationaryRun & { readonly topics: number }, seed: number, options: ShiftDetectorOptions = {}): StationaryOutcome {
  const random = new Random(seed);
  const bucketMs = (options.bucketSeconds ?? SHIFT_DEFAULTS.bucketSeconds) * 1000;
  const weeks = run.topicWeeks / run.topics;
  const endMs = EPOCH_MS + weeks * 7 * 1440 * MINUTE;
  const detector = new ShiftDetector(options);
  detector.advance(EPOCH_MS);
  const streams = Array.from({ length: run.topics }, (_, i) =>
    postsOf(random, [{ fromMs: EPOCH_MS, postsPerMinute: run.postsPerMinute, mix: randomMix(random) }], endMs, `t${i}`),
  );
  const heads = streams.map((s) => s.next());
  let meanAlarms = 0;
  let volumeAlarms = 0;
  let posts = 0;
  const count = (events: readonly ShiftEvent[]): void => {
    for (const e of events) {
      if (e.kind === 'mean') meanAlarms += 1;
      else volumeAlarms += 1;
    }
  };
  for (let boundary = EPOCH_MS + bucketMs; boundary <= endMs; boundary += bucketMs) {
    for (let i = 0; i < streams.length; i++) {
      let head = heads[i];
      while (head !== undefined && head.done !== true && head.value.createdAtMs < boundary) {
        detector.observe(`topic-${i}`, head.value.createdAtMs, head.value.score, head.value.id);
        posts += 1;
        head = (streams[i] as Generator<{ id: string; createdAtMs: number; score: number }>).next();
      }
      heads[i] = head as IteratorResult<{ id: string; createdAtMs: number; score: number }>;
    }
    count(detector.advance(boundary));
  }
  return { topicDays: run.topicWeeks * 7, meanAlarms, volumeAlarms, posts };
}
