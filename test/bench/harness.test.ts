/** The bench harness's own arithmetic: expected store contents, quantiles, the ONNX MAC count. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedFor } from '../../bench/lib/expected.js';
import { histogramQuantile, quantile, spread } from '../../bench/lib/stats.js';
import { timingOf } from '../../bench/lib/timing.js';
import { compareRows } from '../../bench/lib/verify.js';
import { ROOT } from '../helpers.js';

const FIXTURE = join(ROOT, 'bench/fixtures/posts.ndjson.gz');
const manifest = JSON.parse(readFileSync(join(ROOT, 'bench/fixtures/posts.manifest.json'), 'utf8')) as {
  posts: number;
  rowsPerTopic: Record<string, number>;
  deadLettersByCode: Record<string, number>;
};

test('expected contents of the whole fixture equal its manifest; a prefix has exactly N posts', () => {
  const all = expectedFor(FIXTURE, 0);
  assert.deepEqual(all.rowsPerTopic, manifest.rowsPerTopic);
  assert.deepEqual(all.deadLettersByCode, manifest.deadLettersByCode);
  assert.equal(all.posts, manifest.posts);
  const some = expectedFor(FIXTURE, 20_000);
  assert.equal(some.posts, 20_000);
  assert.equal(some.ids.length, 20_000);
  assert.equal(new Set(some.ids).size, 20_000);
  const rows = Object.values(some.rowsPerTopic).reduce((a, b) => a + b, 0);
  assert.ok(rows >= 20_000, 'every post has at least one topic row');
  for (const [topic, n] of Object.entries(some.rowsPerTopic)) assert.ok(n <= (manifest.rowsPerTopic[topic] ?? 0));
  assert.throws(() => expectedFor(FIXTURE, manifest.posts + 1), /holds 25000 posts/);
});

test('the correctness gate names lost, extra and unexpected rows', () => {
  const e = expectedFor(FIXTURE, 500);
  const good = new Map(Object.entries(e.rowsPerTopic));
  assert.deepEqual(compareRows(e, good, 500).problems, []);
  const [topic, n] = Object.entries(e.rowsPerTopic)[0] as [string, number];
  const lost = new Map(good).set(topic, n - 3);
  assert.match(compareRows(e, lost, 497).problems.join(';'), new RegExp(`topic ${topic.replace(':', '.')}: 3 posts lost`));
  const extra = new Map(good).set(topic, n + 1).set('surprise', 2);
  const p = compareRows(e, extra, 501, 1).problems.join(';');
  assert.match(p, /1 posts too many/);
  assert.match(p, /surprise: 2 unexpected rows/);
  assert.match(p, /501 distinct posts stored, expected 500/);
  assert.match(p, /1 duplicated/);
});

test('quantiles, spreads and histogram quantiles', () => {
  assert.equal(quantile([3, 1, 2], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([0, 10], 0.99), 9.9);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.deepEqual({ ...spread([5, 1, 3]), samples: [] }, { median: 3, min: 1, max: 5, samples: [] });
  // 100 observations: 50 ≤ 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1].
  const buckets = [
    { le: 0.1, count: 50 },
    { le: 0.5, count: 90 },
    { le: 1, count: 100 },
    { le: Infinity, count: 100 },
  ];
  assert.equal(histogramQuantile(buckets, 0.5), 0.1);
  assert.ok(Math.abs(histogramQuantile(buckets, 0.7) - 0.3) < 1e-9);
  assert.ok(Math.abs(histogramQuantile(buckets, 0.95) - 0.75) < 1e-9);
});

test('timing: span, throughput, latency and schedule lag from per-post times', () => {
  const ids = ['a', 'b', 'c', 'd'];
  const times = new Map([
    ['a', { ingestedAt: 1000, storedAt: 1010 }],
    ['b', { ingestedAt: 1100, storedAt: 1120 }],
    ['c', { ingestedAt: 1200, storedAt: 1230 }],
    ['d', { ingestedAt: 1300, storedAt: 2000 }],
  ]);
  const t = timingOf(ids, times, 10); // due at 1000, 1100, 1200, 1300
  assert.equal(t.seconds, 1);
  assert.equal(t.postsPerSecond, 4);
  assert.equal(t.latencyMaxMs, 700);
  assert.equal(t.lagEndMs, 700);
  assert.equal(t.lagMaxMs, 700);
  assert.ok(Math.abs((t.ingestPostsPerSecond ?? 0) - 4 / 0.3) < 1e-9);
});
