/**
 * #13.5 the shift detector's contract on small hand-built streams: late and future posts, topic
 * eviction, one shift reported once, the post ids it names, and the consistency of an event's fields.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShiftDetector, type ShiftEvent } from '../../src/shifts/detector.js';
import { ExtremePosts } from '../../src/shifts/extreme-posts.js';
import { BucketRing } from '../../src/shifts/bucket-ring.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0);

/** The same ten scores (mean 0.099, sd 0.58) in every baseline bucket: the CUSUMs stay at 0 on them. */
const BASELINE = [-0.8, -0.6, -0.3, 0, 0, 0, 0.3, 0.6, 0.8, 0.99];

/** Observes `scores` in minute `minute` (one post a second) and closes that minute. */
function minuteOf(d: ShiftDetector, topic: string, minute: number, scores: readonly number[], idPrefix = `${topic}-${minute}`): ShiftEvent[] {
  scores.forEach((score, i) => d.observe(topic, T0 + minute * MINUTE + i * 1000, score, `${idPrefix}-${i}`));
  return d.advance(T0 + (minute + 1) * MINUTE);
}

test('posts dated before the last closed bucket are ignored and counted as late; far-future ones as future', () => {
  const d = new ShiftDetector();
  d.advance(T0 + 10 * MINUTE);
  d.observe('a', T0 + 9 * MINUTE + 59_999, 0.5, 'late');
  d.observe('a', T0 + 10 * MINUTE, 0.5, 'on time');
  d.observe('a', T0 + 10 * MINUTE + 60 * MINUTE, 0.5, 'future');
  d.observe('a', Number.NaN, 0.5, 'invalid');
  assert.deepEqual(d.stats, { latePosts: 1, evictedTopics: 0, futurePosts: 1, invalidPosts: 1 });
  d.advance(T0 + 11 * MINUTE);
  d.observe('a', T0 + 10 * MINUTE + 30_000, 0.5, 'now late');
  assert.equal(d.stats.latePosts, 2);
});

test('beyond maxTopics the least recently seen topic is evicted and counted', () => {
  const d = new ShiftDetector({ maxTopics: 2 });
  d.observe('a', T0, 0, '1');
  d.observe('b', T0, 0, '2');
  d.observe('a', T0 + 1000, 0, '3');
  d.observe('c', T0 + 2000, 0, '4');
  assert.equal(d.topicCount, 2);
  assert.ok(d.hasTopic('a') && d.hasTopic('c') && !d.hasTopic('b'));
  assert.equal(d.stats.evictedTopics, 1);
});

/** 240 baseline minutes, then `after` for `afterMinutes` minutes; every event. */
function stepStream(d: ShiftDetector, after: (minute: number) => readonly number[], afterMinutes: number): ShiftEvent[] {
  d.advance(T0);
  const events: ShiftEvent[] = [];
  for (let m = 0; m < 240; m++) events.push(...minuteOf(d, 't', m, BASELINE));
  for (let m = 240; m < 240 + afterMinutes; m++) events.push(...minuteOf(d, 't', m, after(m)));
  return events;
}

test('a step in the mean is reported once, as one mean shift up, not again at every bucket after it', () => {
  const d = new ShiftDetector();
  const higher = BASELINE.map((x) => Math.min(1, x + 0.4));
  const events = stepStream(d, () => higher, 600);
  assert.equal(events.length, 1, JSON.stringify(events.map((e) => [e.kind, e.direction, e.detectedAt])));
  const [e] = events as [ShiftEvent];
  assert.equal(e.kind, 'mean');
  assert.equal(e.direction, 'up');
  assert.equal(e.changeAt, new Date(T0 + 240 * MINUTE).toISOString());
});

test('a tripled volume is reported as a volume shift up with its ratio', () => {
  const d = new ShiftDetector();
  const events = stepStream(d, () => [...BASELINE, ...BASELINE, ...BASELINE], 60);
  const volume = events.filter((e) => e.kind === 'volume');
  assert.equal(volume.length, 1);
  assert.equal(volume[0]?.direction, 'up');
  assert.ok(Math.abs((volume[0]?.volumeChange ?? 0) - 3) < 1e-9, `volume change ${volume[0]?.volumeChange}`);
  assert.ok(
    events.every((e) => e.kind === 'volume'),
    'the mean did not move',
  );
});

test('the post ids are the posts after the change that moved the mean most in its direction, most extreme first', () => {
  const d = new ShiftDetector();
  // After the change every minute has ten posts near 0.5; in its first four minutes twelve posts score 0.90–0.901.
  const special = new Map<string, number>();
  for (let k = 0; k < 12; k++) special.set(`t-${240 + Math.floor(k / 3)}-${(3 * k) % 10}`, 0.9 + k / 10_000);
  const after = (m: number): number[] => Array.from({ length: 10 }, (_, i) => special.get(`t-${m}-${i}`) ?? 0.45 + i / 100);
  const events = stepStream(d, after, 30);
  const e = events.find((x) => x.kind === 'mean');
  assert.ok(e !== undefined, 'detected');
  const detectedMinute = (Date.parse(e.detectedAt) - T0) / MINUTE;
  const expected = [...special]
    .filter(([id]) => Number(id.split('-')[1]) < detectedMinute)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([id]) => id);
  assert.equal(expected.length, 10, 'all twelve special posts came before the detection');
  assert.deepEqual(e.postIds, expected);
  // None of the baseline's 0.99 posts (higher than any after the change) is named.
  assert.ok(e.postIds.every((id) => Number(id.split('-')[1]) >= 240));
});

test("an event's fields agree: intervals hold their means, n and rates match the posts, volumeChange is the ratio", () => {
  const d = new ShiftDetector();
  const lower = BASELINE.map((x) => Math.max(-1, x - 0.5)).concat([-0.9, -0.9]);
  const [e] = stepStream(d, () => lower, 60).filter((x) => x.kind === 'mean');
  assert.ok(e !== undefined);
  assert.equal(e.direction, 'down');
  for (const side of [e.before, e.after]) {
    assert.ok(side.meanScoreCi95 !== null);
    assert.ok(side.meanScoreCi95[0] <= side.meanScore && side.meanScore <= side.meanScoreCi95[1]);
  }
  const changeMinute = (Date.parse(e.changeAt) - T0) / MINUTE;
  const detectedMinute = (Date.parse(e.detectedAt) - T0) / MINUTE;
  assert.equal(changeMinute, 240);
  assert.ok(Number.isInteger(detectedMinute) && detectedMinute > changeMinute);
  assert.equal(e.before.n, 240 * 10);
  assert.equal(e.after.n, (detectedMinute - changeMinute) * 12);
  assert.ok(Math.abs(e.before.meanScore - BASELINE.reduce((a, b) => a + b, 0) / 10) < 1e-9);
  assert.equal(e.before.postsPerMinute, 10);
  assert.equal(e.after.postsPerMinute, 12);
  assert.ok(Math.abs(e.volumeChange - e.after.postsPerMinute / e.before.postsPerMinute) < 1e-12);
  assert.ok(e.after.meanScore < e.before.meanScore);
  // Down: the lowest posts after the change (ties to the earlier), computed here from the posts themselves.
  const posts = [];
  for (let m = changeMinute; m < detectedMinute; m++) for (const [i, score] of lower.entries()) posts.push({ id: `t-${m}-${i}`, score, at: m * 60 + i });
  const lowest = posts.sort((a, b) => a.score - b.score || a.at - b.at).slice(0, 10);
  assert.deepEqual(
    e.postIds,
    lowest.map((p) => p.id),
  );
});

test('no detection during warm-up, and empty minutes count as buckets (a topic gone silent is a volume shift down)', () => {
  // Warm-up needs 30 buckets and 100 posts: at 10 posts a minute 30 minutes, at 2 a minute 50.
  for (const [perMinute, warmMinutes] of [
    [10, 30],
    [2, 50],
  ] as const) {
    const d = new ShiftDetector();
    d.advance(T0);
    const early: ShiftEvent[] = [];
    for (let m = 0; m < warmMinutes - 10; m++) early.push(...minuteOf(d, 't', m, BASELINE.slice(0, perMinute)));
    for (let m = warmMinutes - 10; m < warmMinutes; m++)
      early.push(
        ...minuteOf(
          d,
          't',
          m,
          Array.from({ length: perMinute }, () => 0.95),
        ),
      );
    assert.deepEqual(early, [], `${perMinute} posts a minute`);
  }
  const quiet = new ShiftDetector();
  const events = stepStream(quiet, () => [], 60);
  assert.deepEqual(
    events.map((e) => [e.kind, e.direction, e.after.n]),
    [['volume', 'down', 0]],
  );
});

test('extreme posts keep the k most extreme, ties to the earlier post; the ring sums any range it holds', () => {
  const top = new ExtremePosts('highest', 3);
  [0.1, 0.9, 0.5, 0.9, 0.7, -1].forEach((score, i) => top.add({ id: `p${i}`, score, createdAtMs: i }));
  assert.deepEqual(top.ids(), ['p1', 'p3', 'p4']);
  const ring = new BucketRing(4);
  for (let b = 10; b < 20; b++) ring.push(b, { n: 1, sum: b, sumOfSquares: b * b });
  ring.push(25, { n: 2, sum: 1, sumOfSquares: 1 });
  assert.deepEqual(ring.range(0, 100), { n: 2, sum: 1, sumOfSquares: 1, buckets: 4, countSquares: 4 });
  ring.push(26, { n: 1, sum: 3, sumOfSquares: 9 });
  assert.deepEqual(ring.range(25, 27), { n: 3, sum: 4, sumOfSquares: 10, buckets: 2, countSquares: 5 });
});
