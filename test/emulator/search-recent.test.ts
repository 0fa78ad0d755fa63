/**
 * #14 GET /2/tweets/search/recent against the emulator's history: the window on publication
 * time, pagination, since_id/until_id, X's validation, the end_time lag, and the usage cap (X bills
 * posts read). The expected posts are computed here from the recording, the rate and the history
 * window (the formula documented at historyPlan), not asked of the emulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { parseRecorded, type RecordedPost } from '../../src/emulator/recorded-posts.js';
import type { XEmulator } from '../../src/emulator/server.js';
import { snowflake } from '../../src/emulator/timeline.js';
import { matches, parseRule } from '../../src/x/rule-language.js';
import { clientFor } from '../x/helpers.js';
import { getJson, iso, readStream, searchAll, startEmu, syntheticPosts, type SearchBody } from './helpers.js';

const RATE = 5;
const HISTORY_S = 600;

/** What the history holds per the documented formula: post i of the recording (i mod L) at S − H·1000 + ⌊i·1000/r⌋. */
function expectedHistory(posts: readonly RecordedPost[], fromMs: number, count: number, rate: number): { time: number; post: RecordedPost; seq: number }[] {
  const out: { time: number; post: RecordedPost; seq: number }[] = [];
  for (let i = 0; i < count; i++) {
    const time = fromMs + Math.floor((i * 1000) / rate);
    const seq = out.length > 0 && out.at(-1)!.time === time ? out.at(-1)!.seq + 1 : 0;
    out.push({ time, post: posts[i % posts.length]!, seq });
  }
  return out;
}

function matcher(query: string): (p: RecordedPost) => boolean {
  const node = parseRule(query);
  assert.ok(node.ok);
  return (p) => matches(node.value, p.features);
}

describe('search/recent over the history', () => {
  const posts = syntheticPosts();
  let emu: XEmulator;
  let client: TwitterApi;
  before(async () => {
    emu = await startEmu({ posts, rate: RATE, historySeconds: HISTORY_S, timestamps: 'published' });
    client = clientFor(emu);
  });
  after(() => emu.close());

  it('every page through next_token together are exactly the matching posts published in the window, newest first, no duplicates', async () => {
    const { fromMs, count } = emu.history;
    assert.equal(count, RATE * HISTORY_S);
    const a = fromMs + 100_000;
    const b = fromMs + 500_000;
    const want = expectedHistory(posts, fromMs, count, RATE)
      .filter((e) => e.time >= a && e.time < b && matcher('bitcoin')(e.post))
      .map((e) => snowflake(e.time, e.seq))
      .reverse();
    assert.ok(want.length > 1000, `${want.length} expected`);
    const paginator = await client.v2.search('bitcoin', { start_time: iso(a), end_time: iso(b), max_results: 100, 'tweet.fields': ['created_at', 'lang'] });
    await paginator.fetchLast(100_000);
    const got = paginator.tweets;
    assert.equal(new Set(got.map((t) => t.id)).size, got.length, 'no duplicates');
    assert.deepEqual(
      got.map((t) => t.id),
      want,
    );
    for (const t of got) {
      const at = Date.parse(t.created_at!);
      assert.ok(at >= a && at < b, `${t.created_at} inside the window`);
      assert.match(t.text, /bitcoin/i);
      assert.ok(t.lang, 'tweet.fields served');
    }
    assert.ok(got.length / 100 <= 100);
  });

  it('since_id and until_id are exclusive bounds', async () => {
    const all = (await searchAll(emu, { query: 'bitcoin', start_time: iso(emu.history.fromMs + 200_000), end_time: iso(emu.history.fromMs + 260_000) })).posts;
    assert.ok(all.length > 100);
    const newer = all[10]!.id;
    const older = all[all.length - 10]!.id;
    const between = await searchAll(emu, { query: 'bitcoin', since_id: older, until_id: newer });
    assert.deepEqual(
      between.posts.map((p) => p.id),
      all.slice(11, all.length - 10).map((p) => p.id),
    );
    const since = await searchAll(emu, { query: 'bitcoin', since_id: all[0]!.id, end_time: iso(emu.history.fromMs + 260_000) });
    assert.equal(since.posts.length, 0);
  });

  it('max_results: 10 by default, 10–100, else 400 with the parameter named', async () => {
    const r = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin' });
    assert.equal(r.status, 200);
    assert.equal(r.body.data?.length, 10);
    assert.equal(r.body.meta.result_count, 10);
    assert.equal(r.body.meta.newest_id, r.body.data[0]!.id);
    assert.equal(r.body.meta.oldest_id, r.body.data[9]!.id);
    assert.ok(r.body.meta.next_token);
    for (const bad of ['9', '101', 'ten']) {
      const e = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', max_results: bad });
      assert.equal(e.status, 400, bad);
      assert.equal(e.body.type, 'https://api.twitter.com/2/problems/invalid-request');
      assert.deepEqual(e.body.errors?.[0]?.parameters, { max_results: [bad] });
    }
    await assert.rejects(client.v2.search('bitcoin', { max_results: 5 }), (e: unknown) => e instanceof ApiResponseError && e.code === 400);
  });

  it('end_time must be at least 10 s before the request; start_time within 7 days and before end_time', async () => {
    const now = Date.now();
    const tooLate = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', end_time: iso(now - 5000) });
    assert.equal(tooLate.status, 400);
    assert.match(tooLate.body.errors![0]!.message, /end_time.*10 seconds prior/);
    const fine = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', end_time: iso(now - 11_000) });
    assert.equal(fine.status, 200);
    const old = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', start_time: iso(now - 8 * 86_400_000) });
    assert.equal(old.status, 400);
    assert.deepEqual(Object.keys(old.body.errors![0]!.parameters), ['start_time']);
    const reversed = await getJson<SearchBody>(emu, '/2/tweets/search/recent', {
      query: 'bitcoin',
      start_time: iso(now - 60_000),
      end_time: iso(now - 120_000),
    });
    assert.equal(reversed.status, 400);
    const garbage = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', start_time: 'yesterday' });
    assert.equal(garbage.status, 400);
  });

  it('an invalid or missing query, a bad next_token, an unknown parameter or sort_order: 400 invalid-request', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ query: 'bitcoin from:someone' }, 'query'],
      [{ query: '(bitcoin' }, 'query'],
      [{}, 'query'],
      [{ query: 'bitcoin', next_token: 'not-a-token' }, 'next_token'],
      [{ query: 'bitcoin', sort_order: 'random' }, 'sort_order'],
      [{ query: 'bitcoin', since_id: 'abc' }, 'since_id'],
      [{ query: 'bitcoin', colour: 'blue' }, 'colour'],
    ];
    for (const [params, name] of cases) {
      const r = await getJson<SearchBody>(emu, '/2/tweets/search/recent', params);
      assert.equal(r.status, 400, JSON.stringify(params));
      assert.equal(r.body.title, 'Invalid Request');
      assert.ok(name in r.body.errors![0]!.parameters, `${name} named in ${JSON.stringify(r.body.errors)}`);
    }
    // A token is for the query it came from.
    const end_time = iso(emu.history.toMs - 20_000); // fixed: the default end moves with the clock
    const first = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', end_time });
    const other = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'lovely', end_time, next_token: first.body.meta.next_token! });
    assert.equal(other.status, 400);
    const relevancy = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', end_time, sort_order: 'relevancy' });
    assert.deepEqual(
      relevancy.body.data?.map((p) => p.id),
      first.body.data?.map((p) => p.id),
      'relevancy is served as recency',
    );
  });

  it('an empty result is {meta:{result_count:0}}', async () => {
    const r = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'nonexistentword' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { meta: { result_count: 0 } });
  });

  it('X rate-limit headers: 450 requests per 15 minutes', async () => {
    const r = await getJson(emu, '/2/tweets/search/recent', { query: 'bitcoin' });
    assert.equal(r.headers.get('x-rate-limit-limit'), '450');
    assert.ok(Number(r.headers.get('x-rate-limit-remaining')) < 450);
    assert.ok(Number(r.headers.get('x-rate-limit-reset')) > Date.now() / 1000);
  });
});

describe('search/recent and the usage cap', () => {
  it('every post returned counts against the cap; a page never exceeds what is left; then 429 UsageCapExceeded', async () => {
    const emu = await startEmu({ rate: 5, historySeconds: 600, usageCap: 25 });
    try {
      const sizes: number[] = [];
      let token: string | undefined;
      for (let i = 0; i < 3; i++) {
        const r = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin', ...(token ? { next_token: token } : {}) });
        assert.equal(r.status, 200);
        sizes.push(r.body.meta.result_count);
        token = r.body.meta.next_token;
      }
      assert.deepEqual(sizes, [10, 10, 5]);
      assert.ok(token, 'more posts remain; the cap cut the page');
      assert.equal(emu.currentUsage(), 25);
      assert.equal(emu.stats.postsSearched, 25);
      const capped = await getJson(emu, '/2/tweets/search/recent', { query: 'bitcoin', next_token: token });
      assert.equal(capped.status, 429);
      assert.equal(capped.body.title, 'UsageCapExceeded');
      const usage = await getJson<{ data: { project_usage: string } }>(emu, '/2/usage/tweets');
      assert.equal(usage.body.data.project_usage, '25');
      const stream = readStream(emu);
      assert.equal(await stream.status, 429, 'the stream shares the cap');
      stream.close();
      const counts = await getJson(emu, '/2/tweets/counts/recent', { query: 'bitcoin' });
      assert.equal(counts.status, 200, 'counts are not billed');
      assert.equal(emu.currentUsage(), 25);
    } finally {
      await emu.close();
    }
  });

  it('a search rate limit spent answers 429 Too Many Requests', async () => {
    const emu = await startEmu({ rateLimits: { 'GET /2/tweets/search/recent': 2 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await getJson(emu, '/2/tweets/search/recent', { query: 'bitcoin' })).status);
      assert.deepEqual(statuses, [200, 200, 429]);
    } finally {
      await emu.close();
    }
  });
});

describe('search/recent: expansions and recorded timestamps', () => {
  it('includes are merged per page; recorded ids and created_at when timestamps are recorded', async () => {
    const user = { id: '77', username: 'someone' };
    const withIncludes = [0, 1].map((i) =>
      parseRecorded(
        JSON.stringify({
          data: { id: String(5000 + i), text: `bitcoin post ${i}`, author_id: '77', created_at: '2025-12-31T00:00:00.000Z' },
          includes: { users: [user] },
        }),
      )!,
    );
    const emu = await startEmu({ posts: withIncludes, rate: 1, historySeconds: 60 });
    try {
      const r = await getJson<SearchBody>(emu, '/2/tweets/search/recent', {
        query: 'bitcoin',
        expansions: 'author_id',
        'tweet.fields': 'created_at,author_id',
        max_results: 100,
        end_time: iso(emu.history.toMs - 10_000),
      });
      assert.equal(r.status, 200);
      assert.equal(r.body.meta.result_count, 50, '60 s at 1/s, less the last 10 s');
      assert.deepEqual(r.body.includes, { users: [user] }, 'one user, once');
      assert.deepEqual(new Set(r.body.data!.map((p) => p.id)), new Set(['5000', '5001']));
      assert.ok(r.body.data!.every((p) => p.created_at === '2025-12-31T00:00:00.000Z'));
      const bare = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: 'bitcoin' });
      assert.equal(bare.body.includes, undefined);
      assert.equal(bare.body.data![0]!.created_at, undefined, 'created_at only when asked for');
    } finally {
      await emu.close();
    }
  });
});
