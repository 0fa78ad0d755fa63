import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { dashboardRoutes, lazyQuery } from '../../src/dashboard/index.js';
import { ok, type ScoredPost } from '../../src/contract/index.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { sqliteCoverageWriter } from '../../src/sinks/sqlite/coverage.js';
import { startTelemetryServer, type TelemetryServer } from '../../src/telemetry/http-server.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('dashboard-api');

function post(id: string, createdAt: string, topic: string, pos: number, neg: number): ScoredPost {
  const neu = 1 - pos - neg;
  return {
    id,
    createdAt,
    topics: [topic],
    lang: 'en',
    label: pos > neg && pos > neu ? 'positive' : neg > neu ? 'negative' : 'neutral',
    probs: { neg, neu, pos },
    score: pos - neg,
    model: 'test',
    flags: [],
    ingestedAt: 1,
    analyzedAt: 2,
  };
}

async function serve(dbPath: string, rulesFile?: string): Promise<TelemetryServer> {
  const { readRulesFile } = await import('../../src/dashboard/index.js');
  return startTelemetryServer(
    '127.0.0.1',
    0,
    dashboardRoutes(
      lazyQuery(() => ok(new SqliteQuery(dbPath))),
      {
        registry: new Registry(),
        ...(rulesFile ? { rules: async () => (await readRulesFile(rulesFile)).rules } : {}),
      },
    ),
  );
}

test('the sentiment API buckets what the store holds, ending at the newest post', async () => {
  const db = join(dir, 'known.db');
  const store = new SqliteStore(db);
  await store.write([
    post('1', '2026-11-03T10:00:05.000Z', 'a', 0.9, 0.05),
    post('2', '2026-11-03T10:00:50.000Z', 'a', 0.1, 0.7),
    post('3', '2026-11-03T10:01:10.000Z', 'a', 0.6, 0.2),
    post('4', '2026-11-03T10:01:59.000Z', 'b', 0.2, 0.2),
  ]);
  await store.close();
  const server = await serve(db);
  try {
    const view = (await (await fetch(`${server.url}/dashboard/api/sentiment?window=120&points=2&at=2026-11-03T10:01:59.000Z`)).json()) as {
      from: string;
      to: string;
      bucketSeconds: number;
      dataEnd: string;
      summaries: { topic: string; count: number }[];
      series: {
        topic: string;
        points: {
          t: string;
          count: number;
          meanScore: number;
          meanScoreCi95: [number, number] | null;
          tooFewPosts: boolean;
          sharesCi95: Record<string, [number, number]>;
        }[];
      }[];
    };
    assert.equal(view.dataEnd, '2026-11-03T10:01:59.000Z');
    assert.equal(view.bucketSeconds, 60);
    assert.equal(view.to, '2026-11-03T10:02:00.000Z');
    assert.equal(view.from, '2026-11-03T10:00:00.000Z');
    assert.deepEqual(
      view.summaries.map((s) => [s.topic, s.count]),
      [
        ['a', 3],
        ['b', 1],
      ],
    );
    const a = view.series.find((s) => s.topic === 'a')!;
    assert.deepEqual(
      a.points.map((p) => [p.t, p.count]),
      [
        ['2026-11-03T10:00:00.000Z', 2],
        ['2026-11-03T10:01:00.000Z', 1],
      ],
    );
    assert.ok(Math.abs(a.points[0]!.meanScore - (0.85 - 0.6) / 2) < 1e-12);
    // #13: every point says how sure it is; two posts give a (wide) interval, one post none.
    const [two, one] = a.points as [(typeof a.points)[number], (typeof a.points)[number]];
    assert.ok(two.meanScoreCi95 && two.meanScoreCi95[0] <= two.meanScore && two.meanScore <= two.meanScoreCi95[1]);
    assert.equal(one.meanScoreCi95, null);
    assert.ok(two.tooFewPosts && one.tooFewPosts, 'buckets of 1–2 posts are below the default minimum');
    assert.deepEqual(Object.keys(two.sharesCi95).sort(), ['negative', 'neutral', 'positive']);
    const only = (await (await fetch(`${server.url}/dashboard/api/sentiment?window=all&topics=b`)).json()) as { series: { topic: string }[] };
    assert.deepEqual(
      only.series.map((s) => s.topic),
      ['b'],
    );
  } finally {
    await server.close();
  }
});

test('the dashboard routes: page, redirects, bad parameters, a store not yet created, rules, no file outside the page', async () => {
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, 'rules:\n  - value: "a OR b"\n    tag: ab\n  - tag: no-value\n');
  const server = await serve(join(dir, 'not-yet.db'), rules);
  try {
    const page = await fetch(`${server.url}/dashboard/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<svg id="score-chart"/);
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/dashboard/');
    assert.equal((await fetch(`${server.url}/dashboard/static/dashboard.js`)).status, 200);
    assert.equal((await fetch(`${server.url}/dashboard/static/..%2F..%2Fpackage.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/dashboard/static/routes.ts`)).status, 404);
    const bad = await fetch(`${server.url}/dashboard/api/sentiment?window=soon`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /window must be an integer/);
    assert.equal((await fetch(`${server.url}/dashboard/api/sentiment?points=0`)).status, 400);
    const missing = await fetch(`${server.url}/dashboard/api/sentiment`);
    assert.equal(missing.status, 503);
    assert.match(((await missing.json()) as { error: string }).error, /store not readable yet/);
    assert.deepEqual(await (await fetch(`${server.url}/dashboard/api/rules`)).json(), { available: true, rules: [{ value: 'a OR b', tag: 'ab' }] });
    assert.equal((await fetch(`${server.url}/dashboard/api/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200, 'the role routes still answer');
  } finally {
    await server.close();
  }
});

test('#14.4 the sentiment API says the stream state at the end of the window: capped with the reset time; a backfill fills its gap', async () => {
  const db = join(dir, 'capped.db');
  const store = new SqliteStore(db);
  await store.write([post('1', '2026-11-03T10:00:05.000Z', 'a', 0.9, 0.05)]);
  await store.close();
  const t = (s: string): number => Date.parse(`2026-11-03T10:${s}.000Z`);
  const writer = sqliteCoverageWriter(db);
  await writer.write([
    { at: t('00:00'), state: 'connected', detail: 'connected to the filtered stream' },
    { at: t('00:30'), state: 'connected', detail: 'heartbeat' },
    { at: t('00:40'), state: 'disconnected', detail: 'network: reset' },
    { at: t('00:50'), state: 'connected', detail: 'connected to the filtered stream' },
    // Written later: the hole [00:40, 00:50) was filled from recent search.
    { at: t('00:35'), state: 'backfilled', detail: '3 posts from recent search', until: t('00:55') },
    {
      at: t('01:30'),
      state: 'capped',
      detail: "usage_cap: X's usage cap is spent until 2026-12-01T00:00:00.000Z",
      until: Date.parse('2026-12-01T00:00:00.000Z'),
    },
  ]);
  await writer.close();
  const server = await serve(db);
  try {
    const view = async (
      at: string,
    ): Promise<{ stream: { state: string; since: string; until?: string } | null; coverage: { t: string; fraction: number | null }[] }> =>
      (await (await fetch(`${server.url}/dashboard/api/sentiment?window=120&points=2&at=${at}`)).json()) as never;
    const capped = await view('2026-11-03T10:01:59.000Z');
    assert.deepEqual(capped.stream && { state: capped.stream.state, since: capped.stream.since, until: capped.stream.until }, {
      state: 'capped',
      since: '2026-11-03T10:01:30.000Z',
      until: '2026-12-01T00:00:00.000Z',
    });
    // Minute 0 covered whole (the backfill filled the disconnect); minute 1 connected until the cap at 01:30.
    assert.deepEqual(
      capped.coverage.map((c) => c.fraction),
      [1, 0.5],
    );
    const connected = await view('2026-11-03T10:00:59.000Z');
    assert.equal(connected.stream?.state, 'connected');
    assert.equal(connected.stream?.since, '2026-11-03T10:00:50.000Z', 'the state began at its first event, not at a heartbeat or a backfill');
  } finally {
    await server.close();
  }
});

test('#17.5 the sentiment API leaves posts in unsupported languages out of every figure by default, says how many per topic; unsupportedLanguages=include counts them', async () => {
  const db = join(dir, 'languages.db');
  const store = new SqliteStore(db);
  const spanish = (p: ScoredPost): ScoredPost => ({ ...p, lang: 'es', flags: ['non_english'] });
  await store.write([
    post('11', '2026-11-03T10:00:05.000Z', 'a', 0.9, 0.05),
    post('12', '2026-11-03T10:00:50.000Z', 'a', 0.8, 0.1),
    spanish(post('13', '2026-11-03T10:01:10.000Z', 'a', 0.05, 0.9)),
    spanish(post('14', '2026-11-03T10:01:20.000Z', 'a', 0.05, 0.9)),
    spanish(post('15', '2026-11-03T10:01:30.000Z', 'b', 0.2, 0.2)),
  ]);
  await store.close();
  const server = await serve(db);
  type View = {
    summaries: { topic: string; count: number; leftOut: number; meanScore: number }[];
    series: { topic: string; points: { count: number }[] }[];
  };
  const get = async (extra: string): Promise<View> => {
    const res = await fetch(`${server.url}/dashboard/api/sentiment?window=all&points=1${extra}`);
    assert.equal(res.status, 200);
    return (await res.json()) as View;
  };
  try {
    const byDefault = await get('');
    assert.deepEqual(
      byDefault.summaries.map((s) => [s.topic, s.count, s.leftOut]),
      [
        ['a', 2, 2],
        ['b', 0, 1],
      ],
    );
    assert.ok((byDefault.summaries[0]?.meanScore ?? 0) > 0.7, 'the Spanish posts do not pull the mean down');
    assert.equal(byDefault.series.find((s) => s.topic === 'a')?.points[0]?.count, 2);
    const included = await get('&unsupportedLanguages=include');
    assert.deepEqual(
      included.summaries.map((s) => [s.topic, s.count, s.leftOut]),
      [
        ['a', 4, 0],
        ['b', 1, 0],
      ],
    );
    assert.ok((included.summaries[0]?.meanScore ?? 1) < 0.5);
    const bad = await fetch(`${server.url}/dashboard/api/sentiment?unsupportedLanguages=maybe`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /unsupported languages must be one of exclude, include/);
  } finally {
    await server.close();
  }
});
