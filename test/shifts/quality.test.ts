/**
 * #13.5 detection quality, a seeded miniature of bench/shifts (the full run and its numbers:
 * bench/results/shifts-*.md). Planted shifts go through observe() post by post; the stationary
 * weeks are fed per bucket into the same per-topic tests advance() drives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarise } from '../../bench/shifts/summary.js';
import { runDelayTrial, runStationary, runStationaryObserved, type PlantedShift, type TrialTiming } from '../../bench/shifts/trials.js';

/** Baseline full (240 buckets) before the change; a detection waited for up to an hour. */
const TIMING: TrialTiming = { preMinutes: 260, horizonMinutes: 60 };
const TRIALS = 40;

function trials(shift: PlantedShift, seed: number): ReturnType<typeof summarise> {
  return summarise(Array.from({ length: TRIALS }, (_, i) => runDelayTrial(shift, seed + i, TIMING)));
}

test('a 0.2 mean shift at 100 posts/min is detected within 10 min in ≥ 90 % of trials, at 10 posts/min within 60 min', () => {
  // Measured in the bench (200 trials): 100 % within 10 min at 100 posts/min, median ≈ 3 min; at 10 posts/min
  // 100 % within 60 min but only a few % within 10 (the goal's 10 minutes needs ~50+ posts/min, see the results file).
  const fast = trials({ kind: 'mean', size: 0.2, postsPerMinute: 100 }, 1_000);
  assert.ok(fast.within10 >= 0.9, `100 posts/min: ${fast.within10 * 100} % within 10 min`);
  const slow = trials({ kind: 'mean', size: 0.2, postsPerMinute: 10 }, 2_000);
  assert.ok(slow.within60 >= 0.9, `10 posts/min: ${slow.within60 * 100} % within 60 min`);
  assert.equal(fast.wrongDirection + slow.wrongDirection, 0);
});

test('a tripled volume at 10 posts/min is detected within 10 min in ≥ 90 % of trials', () => {
  const s = trials({ kind: 'volume', size: 3, postsPerMinute: 10 }, 3_000);
  assert.ok(s.within10 >= 0.9, `${s.within10 * 100} % within 10 min`);
});

test('stationary streams raise at most a few false alarms in 4 topic-weeks (10 posts/min) and 2 through observe()', () => {
  const perBucket = runStationary({ postsPerMinute: 10, topicWeeks: 4 }, 4_000);
  assert.ok(perBucket.meanAlarms + perBucket.volumeAlarms <= 3, `per bucket: ${perBucket.meanAlarms} mean, ${perBucket.volumeAlarms} volume alarms`);
  const observed = runStationaryObserved({ postsPerMinute: 10, topicWeeks: 2, topics: 2 }, 5_000);
  assert.ok(observed.meanAlarms + observed.volumeAlarms <= 2, `observed: ${observed.meanAlarms} mean, ${observed.volumeAlarms} volume alarms`);
  assert.ok(observed.posts > 150_000, 'the streams ran');
});
