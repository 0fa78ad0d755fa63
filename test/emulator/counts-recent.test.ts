/**
 * #14 GET /2/tweets/counts/recent and the history volume: buckets aligned to the granularity,
 * oldest first, summing to the matching posts published in the window; the history volume per rule
 * follows the documented formula (⌊N / L⌋ · m(L) + m(N mod L)), computed here from the recording.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedPost } from '../../src/emulator/recorded-posts.js';
import type { XEmulator } from '../../src/emulator/server.js';
import { historyPlan, historyVolume } from '../../src/emulator/timeline.js';
import { matches, parseRule } from '../../src/x/rule-language.js';
import { addRules, getJson, iso, postJson, readStream, sleep, startEmu, syntheticPosts, until } from './helpers.js';

interface CountsBody {
  data: { start: string; end: string; tweet_count: number }[];
  meta: { total_tweet_count: number; next_token?: string };
  errors?: { parameters: Record<string, unknown> }[];
}

const HOUR = 3_600_000;

function matcher(query: string): (p: RecordedPost) => boolean {
  const node = parseRule(query);
  assert.ok(node.ok);
  return (p) => matches(node.value, p.features);
}

/** Publication times of the history posts a query matches, by brute force over the formula. */
function historyTimes(emu: XEmulator, posts: readonly RecordedPost[], rate: number, query: string): number[] {
  const m = matcher(query);
  const out: number[] = [];
  for (let i = 0; i < emu.history.count; i++) if (m(posts[i % posts.length]!)) out.push(emu.history.fromMs + Math.floor((i * 1000) / rate));
  return out;
}

async function allCounts(emu: XEmulator, params: Record<string, string>): Promise<{ buckets: CountsBody['data']; totals: number[]; pages: number }> {
  const buckets: CountsBody['data'] = [];
  const totals: number[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { ...params, ...(token ? { next_token: token } : {}) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages++;
    buckets.push(...r.body.data);
    totals.push(r.body.meta.total_tweet_count);
    token = r.body.meta.next_token;
  } while (token);
  return { buckets, totals, pages };
}

function assertTiling(buckets: CountsBody['data'], start: number, end: number, width: number): void {
  assert.equal(Date.parse(buckets[0]!.start), start, 'the first bucket starts at start_time');
  assert.equal(Date.parse(buckets.at(-1)!.end), end, 'the last ends at end_time');
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (i > 0) {
      assert.equal(b.start, buckets[i - 1]!.end, 'contiguous, oldest first');
      assert.equal(Date.parse(b.start) % width, 0, `${b.start} aligned`);
    }
    if (i < buckets.length - 1) assert.equal(Date.parse(b.end) % width, 0, `${b.end} aligned`);
    assert.ok(Date.parse(b.end) - Date.parse(b.start) <= width);
  }
}

describe('counts/recent', () => {
  it('the history volume per rule is ⌊N / L⌋ · m(L) + m(N mod L); hour buckets sum to it', async () => {
    const posts = syntheticPosts();
    const rate = 2;
    const historySeconds = 3 * 3600 + 1; // N = 21,602: 2,400 loops of 9 and 2 posts more
    const emu = await startEmu({ posts, rate, historySeconds, searchEndLagMs: 0 });
    try {
      assert.equal(emu.history.count, 21_602);
      for (const query of ['bitcoin', '#ai OR lovely', 'lang:es bitcoin']) {
        const m = matcher(query);
        const perLoop = posts.filter(m).length;
        const rest = posts.slice(0, 21_602 % 9).filter(m).length;
        const formula = Math.floor(21_602 / 9) * perLoop + rest;
        const plan = historyPlan({ historySeconds, rate, recordingLength: posts.length, loop: true, startMs: emu.history.toMs });
        assert.equal(
          historyVolume(plan, (i) => m(posts[i]!)),
          formula,
          `historyVolume for ${query}`,
        );
        const start = emu.history.fromMs;
        const end = emu.history.toMs;
        const { buckets, totals } = await allCounts(emu, { query, start_time: iso(start), end_time: iso(end) });
        assertTiling(buckets, start, end, HOUR);
        assert.ok(buckets.length >= 4 && buckets.length <= 5);
        const sum = buckets.reduce((a, b) => a + b.tweet_count, 0);
        assert.equal(sum, formula, `${query}: buckets sum to the formula`);
        assert.deepEqual(totals, [formula]);
        // Per bucket, the brute-force count of the formula's publication times.
        const times = historyTimes(emu, posts, rate, query);
        for (const b of buckets) {
          const [s, e] = [Date.parse(b.start), Date.parse(b.end)];
          assert.equal(b.tweet_count, times.filter((t) => t >= s && t < e).length, `${query} ${b.start}`);
        }
      }
    } finally {
      await emu.close();
    }
  });

  it('minute granularity over more than a day pages through next_token; day buckets start at UTC midnight', async () => {
    const posts = syntheticPosts();
    const rate = 0.05; // one post every 20 s
    const emu = await startEmu({ posts, rate, historySeconds: 26 * 3600, searchEndLagMs: 0 });
    try {
      const start = emu.history.fromMs + 30_500;
      const end = emu.history.toMs;
      const minutes = await allCounts(emu, { query: 'bitcoin', granularity: 'minute', start_time: iso(start), end_time: iso(end) });
      assert.equal(minutes.pages, 2, '1,560 minutes: two pages of at most 1,440 buckets');
      assertTiling(minutes.buckets, start, end, 60_000);
      const times = historyTimes(emu, posts, rate, 'bitcoin').filter((t) => t >= start && t < end);
      assert.equal(
        minutes.buckets.reduce((a, b) => a + b.tweet_count, 0),
        times.length,
      );
      assert.equal(
        minutes.totals.reduce((a, b) => a + b, 0),
        times.length,
        'total_tweet_count is per page',
      );
      const days = await allCounts(emu, { query: 'bitcoin', granularity: 'day', start_time: iso(start), end_time: iso(end) });
      assertTiling(days.buckets, start, end, 86_400_000);
      assert.equal(
        days.buckets.reduce((a, b) => a + b.tweet_count, 0),
        times.length,
      );
    } finally {
      await emu.close();
    }
  });

  it('live publication: counts of the stream rule are the posts published; other queries see only what a stream rule matched', async () => {
    const emu = await startEmu({ rate: 500, searchEndLagMs: 0 });
    try {
      await addRules(emu, [{ value: 'bitcoin' }]);
      const t0 = Date.now();
      const a = readStream(emu);
      await until(() => emu.stats.postsPublished >= 100, 5000, '100 published');
      a.close();
      await until(() => emu.openConnections() === 0, 2000, 'closed');
      // Publication goes on without a connection; without rules it stops, and the count holds still.
      assert.equal((await postJson(emu, '/2/tweets/search/stream/rules', { delete: { values: ['bitcoin'] } })).status, 200);
      const published = emu.stats.postsPublished;
      await sleep(50);
      assert.equal(emu.stats.postsPublished, published);
      const r = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: 'bitcoin', granularity: 'minute', start_time: iso(t0 - 60_000) });
      assert.equal(r.status, 200);
      assert.equal(r.body.meta.total_tweet_count, published, 'every post published is counted');
      const lovely = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: 'lovely', start_time: iso(t0 - 60_000) });
      assert.equal(lovely.body.meta.total_tweet_count, 0, 'live publication holds only posts a stream rule matched');
      const ai = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: '#ai', start_time: iso(t0 - 60_000) });
      assert.ok(ai.body.meta.total_tweet_count > 0, '"#ai and bitcoin together" matched the stream rule');
    } finally {
      await emu.close();
    }
  });

  it('granularity and window are validated; 300 requests per 15 minutes; not billed', async () => {
    const emu = await startEmu({ historySeconds: 60, rate: 10 });
    try {
      const bad = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: 'bitcoin', granularity: 'second' });
      assert.equal(bad.status, 400);
      assert.ok('granularity' in bad.body.errors![0]!.parameters);
      const late = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: 'bitcoin', end_time: iso(Date.now()) });
      assert.equal(late.status, 400);
      const invalid = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: 'bitcoin OR' });
      assert.equal(invalid.status, 400);
      const ok = await getJson<CountsBody>(emu, '/2/tweets/counts/recent', { query: 'bitcoin' });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-rate-limit-limit'), '300');
      assert.ok(ok.body.data.length >= 168, '7 days of hours by default');
      assert.ok(ok.body.meta.total_tweet_count > 0);
      assert.equal(emu.currentUsage(), 0);
    } finally {
      await emu.close();
    }
  });
});
