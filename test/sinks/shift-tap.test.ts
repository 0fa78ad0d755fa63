/**
 * #13.5: the store stage with shift detection writes through to its store first, then detects,
 * stores, counts (crowdpulse_sentiment_shifts_total) and notifies; retweets are left out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScoredPost } from '../../src/contract/index.js';
import type { Sink } from '../../src/pipeline/component.js';
import type { ShiftEvent } from '../../src/query/shift-event.js';
import { ShiftDetector } from '../../src/shifts/detector.js';
import { ShiftTapSink } from '../../src/sinks/shift-tap/shift-tap-sink.js';
import { registry } from '../../src/telemetry/metrics.js';
import { scoredPost } from '../influxdb/server.js';

const T0 = Date.UTC(2026, 10, 26, 0, 0, 0);

/** 15 posts a minute for `minutes`; the mean score turns from +0.5 to −0.3 at `turn` (minutes). */
function posts(minutes: number, turn: number, topic: string, retweets = false): ScoredPost[] {
  let seed = 11;
  const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const out: ScoredPost[] = [];
  for (let m = 0; m < minutes; m++)
    for (let k = 0; k < 15; k++) {
      const at = T0 + m * 60_000 + k * 4000;
      const score = Math.max(-1, Math.min(1, (m >= turn ? -0.3 : 0.5) + (random() - 0.5) * 1.2));
      const post = scoredPost(at, (m * 15 + k) % 4096, { topics: [topic], score });
      out.push(retweets ? { ...post, refKind: 'retweeted', refId: '42' } : post);
    }
  return out;
}

async function counted(topic: string): Promise<number> {
  const metric = await registry.getSingleMetric('crowdpulse_sentiment_shifts_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.topic === topic).reduce((sum, v) => sum + v.value, 0);
}

test('shifts are detected after the inner write, stored, counted and notified; retweets do not count', async () => {
  const written: number[] = [];
  const inner: Sink<ScoredPost> = { name: 'memory', stage: 'store', write: async (items) => void written.push(items.length), close: async () => undefined };
  const stored: ShiftEvent[] = [];
  const notified: ShiftEvent[] = [];
  const tap = new ShiftTapSink(inner, {
    detector: new ShiftDetector(),
    writer: { write: async (e) => void stored.push(...e), close: async () => undefined },
    notifier: { notify: (e) => void notified.push(e), close: async () => undefined },
    latenessMs: 60_000,
    drainMs: 100,
  });
  assert.equal(tap.name, 'memory');
  assert.equal(tap.stage, 'store');
  const stream = posts(180, 120, 'tap-topic');
  for (let i = 0; i < stream.length; i += 500) await tap.write(stream.slice(i, i + 500));
  await tap.close();
  assert.equal(
    written.reduce((s, n) => s + n, 0),
    stream.length,
    'every post reached the store',
  );
  const mean = stored.filter((e) => e.kind === 'mean');
  assert.equal(mean.length, 1, JSON.stringify(stored.map((e) => [e.kind, e.direction, e.detectedAt])));
  assert.equal(mean[0]?.direction, 'down');
  assert.ok(Date.parse(mean[0].detectedAt) > T0 + 120 * 60_000);
  assert.deepEqual(notified, stored);
  assert.equal(await counted('tap-topic'), stored.length);

  // The same stream as retweets: no opinions, nothing detected.
  const only: ShiftEvent[] = [];
  const retweetTap = new ShiftTapSink(undefined, {
    detector: new ShiftDetector(),
    writer: { write: async (e) => void only.push(...e), close: async () => undefined },
    notifier: { notify: () => undefined, close: async () => undefined },
    latenessMs: 60_000,
    drainMs: 100,
  });
  assert.equal(retweetTap.stage, undefined, 'detection only: not a store stage');
  await retweetTap.write(posts(180, 120, 'retweeted-topic', true));
  assert.deepEqual(only, []);
});

test('a batch that spans hours of event time (a replay whose sink batches grew) detects what small batches detect: no posts dropped as future', async () => {
  const run = async (batches: (stream: ScoredPost[]) => ScoredPost[][]): Promise<{ shifts: ShiftEvent[]; stats: ShiftDetector['stats'] }> => {
    const detector = new ShiftDetector();
    const stored: ShiftEvent[] = [];
    const tap = new ShiftTapSink(undefined, {
      detector,
      writer: { write: async (e) => void stored.push(...e), close: async () => undefined },
      notifier: { notify: () => undefined, close: async () => undefined },
      latenessMs: 120_000,
      drainMs: 100,
    });
    for (const batch of batches(posts(180, 120, 'big-batch-topic'))) await tap.write(batch);
    await tap.close();
    return { shifts: stored, stats: detector.stats };
  };
  const small = await run((s) => Array.from({ length: Math.ceil(s.length / 100) }, (_, i) => s.slice(i * 100, i * 100 + 100)));
  // 20 minutes first, then the remaining 160 minutes in one batch: far more than the detector's
  // 60 open buckets past the first watermark.
  const big = await run((s) => [s.slice(0, 300), s.slice(300)]);
  const summary = (r: typeof small): string[] => r.shifts.map((e) => `${e.kind} ${e.direction} ${e.detectedAt}`);
  assert.equal(big.stats.futurePosts, 0, 'no post counted as future');
  assert.deepEqual(summary(big), summary(small));
  assert.deepEqual(
    big.shifts.map((e) => [e.kind, e.direction]),
    [['mean', 'down']],
  );
});

test('posts in an unsupported language are left out of detection by default, as from every mean; include counts them', async () => {
  // A topic whose English posts hold steady while a burst of flagged (non_english) posts turns negative.
  const steady = posts(180, 10_000, 'lang-topic');
  const flaggedTurn = posts(180, 120, 'lang-topic').map((p, i) => ({
    ...p,
    id: (BigInt(p.id) + 2048n + BigInt(i % 7)).toString(),
    lang: 'es',
    flags: ['non_english'],
  }));
  const merged = [...steady, ...flaggedTurn].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const detect = async (unsupportedLanguages: 'exclude' | 'include' | undefined): Promise<ShiftEvent[]> => {
    const found: ShiftEvent[] = [];
    const tap = new ShiftTapSink(undefined, {
      detector: new ShiftDetector(),
      writer: { write: async (e) => void found.push(...e), close: async () => undefined },
      notifier: { notify: () => undefined, close: async () => undefined },
      latenessMs: 60_000,
      drainMs: 100,
      ...(unsupportedLanguages === undefined ? {} : { unsupportedLanguages }),
    });
    for (let i = 0; i < merged.length; i += 500) await tap.write(merged.slice(i, i + 500));
    await tap.close();
    return found.filter((e) => e.kind === 'mean');
  };
  assert.deepEqual(await detect(undefined), [], 'the default leaves the flagged posts out');
  assert.deepEqual(await detect('exclude'), []);
  const included = await detect('include');
  assert.equal(included.length, 1, 'counted, the flagged posts move the mean');
  assert.equal(included[0]?.direction, 'down');
});
