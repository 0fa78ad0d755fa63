/**
 * #13.6 in a real Chromium, over a store of known posts: one small chart per topic with its
 * interval bands, buckets of too few posts faded, the language, retweet and chart-mode controls
 * (the API asked accordingly, the page redrawn and still equal to the store), and stream gaps and
 * shift markers as drawn from the API's `coverage` and `shifts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { ok, type ScoredPost } from '../../src/contract/index.js';
import { dashboardRoutes, lazyQuery } from '../../src/dashboard/index.js';
import type { CoverageEvent } from '../../src/query/coverage.js';
import { sqliteCoverageWriter } from '../../src/sinks/sqlite/coverage.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';
import { ROOT, tempDir } from '../helpers.js';
import { scoredPost } from '../influxdb/server.js';
import { need } from '../ops/support.js';
import { assertPageMatchesStore, bands, circles, CHROMIUM, CHROMIUM_ARGS, multiples, updatesOf, waitForUpdate, type DomElement } from './page-check.js';

const T0 = Date.UTC(2026, 10, 3, 10, 0, 0);
const MINUTE = 60_000;
const at = (minute: number): string => new Date(T0 + minute * MINUTE).toISOString();
/** Posts per full bucket: above the default minimum of 30. */
const FULL = 35;

let low = 0;
/** `n` posts of `topic` in minute `minute`, one per second, scores spread around a level that drifts with the minute. */
function posts(topic: string, minute: number, n: number, fields: Partial<ScoredPost> = {}): ScoredPost[] {
  const level = Math.sin(minute / 4) * 0.5;
  return Array.from({ length: n }, (_, i) =>
    scoredPost(T0 + minute * MINUTE + i * 1000 + 1, ++low, { topics: [topic], score: level + ((i % 7) - 3) * 0.1, ...fields }),
  );
}

/**
 * alpha (en): full buckets in minutes 0–9 and 59, 1 post in minute 10 (too few, no interval), 5 in
 * minute 11 (too few, with an interval). beta (en): minute 20 is one post and 34 retweets of it (one
 * opinion when retweets weigh on their original, 35 when each counts), minute 21 is full. gamma (de):
 * full buckets in minutes 30–32. window=all spans one hour: 60 buckets of a minute.
 */
function knownPosts(): ScoredPost[] {
  const alpha = [
    ...Array.from({ length: 10 }, (_, m) => posts('alpha', m, FULL)).flat(),
    ...posts('alpha', 10, 1),
    ...posts('alpha', 11, 5),
    ...posts('alpha', 59, FULL),
  ];
  const [original] = posts('beta', 20, 1);
  const beta = [original!, ...posts('beta', 20, FULL - 1, { refKind: 'retweeted', refId: original!.id }), ...posts('beta', 21, FULL)];
  const gamma = [30, 31, 32].flatMap((m) => posts('gamma', m, FULL, { lang: 'de' }));
  return [...alpha, ...beta, ...gamma];
}

/**
 * The stream as ingest records it: connected (a heartbeat every 30 s) until 10:05:30, disconnected
 * until 10:07, connected again to the end. Minute 5 is half covered, minute 6 not at all.
 */
function knownCoverage(): CoverageEvent[] {
  const beats = (fromS: number, toS: number): CoverageEvent[] =>
    Array.from({ length: (toS - fromS) / 30 + 1 }, (_, i) => ({ at: T0 + (fromS + i * 30) * 1000, state: 'connected' as const, detail: 'test' }));
  return [...beats(-30, 300), { at: T0 + 330_000, state: 'disconnected', detail: 'test: connection reset' }, ...beats(420, 3600)];
}

interface Drawn {
  faded: boolean;
  band: boolean;
  bandFaded: boolean;
}

/** How the bucket of `topic` at `minute` is drawn in the small multiples. */
async function drawnBucket(page: Page, topic: string, minute: number): Promise<Drawn | undefined> {
  const point = (await circles(page, '#multiples')).find((c) => c.topic === topic && c.t === at(minute));
  if (!point) return undefined;
  const band = (await bands(page, '#multiples')).find((b) => b.topic === topic && b.t === at(minute));
  return { faded: point.faded, band: band !== undefined, bandFaded: band?.faded ?? false };
}

const sentimentRequest = (page: Page, check: (params: URLSearchParams) => boolean): Promise<unknown> =>
  page.waitForRequest((r) => {
    const url = new URL(r.url());
    return url.pathname === '/dashboard/api/sentiment' && check(url.searchParams);
  });

/** Gaps (bucket start → fraction) and shift markers drawn in one chart. */
const overlaysOf = (page: Page, chart: string): Promise<{ gaps: [string, number, string][]; shifts: string[] }> =>
  page.$eval(chart, (svg: DomElement) => ({
    gaps: [...svg.querySelectorAll('rect.gap')].map(
      (g) => [g.getAttribute('data-t') ?? '', Number(g.getAttribute('data-fraction')), g.textContent ?? ''] as [string, number, string],
    ),
    shifts: [...svg.querySelectorAll('g.shift')].map(
      (g) => `${g.getAttribute('data-topic')} ${g.getAttribute('data-kind')} ${g.getAttribute('data-direction')} ${g.getAttribute('data-at')}`,
    ),
  }));

test(
  '#13.6 the dashboard: a small chart per topic with interval bands, too-few buckets faded, language/retweet/chart controls, gaps and shifts',
  { timeout: 120_000 },
  async (t) => {
    if (!need(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`, 'bash scripts/chromium.sh install')) return;
    const db = join(tempDir('dashboard-features'), 'known.db');
    const store = new SqliteStore(db);
    await store.write(knownPosts());
    await store.close();
    const coverage = sqliteCoverageWriter(db);
    await coverage.write(knownCoverage());
    await coverage.close();
    const query = new SqliteQuery(db);
    const server = await startTelemetryServer(
      '127.0.0.1',
      0,
      dashboardRoutes(
        lazyQuery(() => ok(new SqliteQuery(db))),
        { registry: new Registry(), title: 'crowdpulse features' },
      ),
    );
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));

      // 1. Small multiples by default: one chart per topic, equal to the store, bands and fading as the store says.
      const first = sentimentRequest(page, (p) => p.get('window') === 'all' && p.get('amplification') === 'weighted' && !p.has('langs'));
      await page.goto(`${server.url}/dashboard/?window=all&refresh=3600`);
      await first;
      let updates = await waitForUpdate(page, 0);
      const shown = await assertPageMatchesStore(page, query);
      assert.deepEqual([...shown.topics].sort(), ['alpha', 'beta', 'gamma']);
      assert.equal((await multiples(page)).length, 3, 'three small charts');
      assert.deepEqual(await drawnBucket(page, 'alpha', 0), { faded: false, band: true, bandFaded: false }, 'a full bucket: solid, with its band');
      assert.deepEqual(await drawnBucket(page, 'alpha', 10), { faded: true, band: false, bandFaded: false }, 'one post: faded, no interval');
      assert.deepEqual(await drawnBucket(page, 'alpha', 11), { faded: true, band: true, bandFaded: true }, 'five posts: faded, with a faded band');
      assert.deepEqual(
        await drawnBucket(page, 'beta', 20),
        { faded: true, band: false, bandFaded: false },
        'a post and its retweets are one opinion by default',
      );
      assert.match((await page.textContent('#key')) ?? '', /too few posts/, 'the key says what faded means');
      assert.match((await page.textContent('#key')) ?? '', /95 % interval/);
      assert.ok((await page.$$('#multiples path.line.too-few')).length > 0, 'segments to a too-few bucket are drawn dashed');
      const title = await page.$eval('#multiples circle.point.too-few title', (n: DomElement) => n.textContent ?? '');
      assert.match(title, /too few posts/, 'a faded point says why in its tooltip');

      // Stream gaps as the API reports them from the recorded coverage, in every chart, with a tooltip.
      const real = (await (await fetch(`${server.url}/dashboard/api/sentiment?window=all`)).json()) as {
        coverage?: { t: string; fraction: number | null }[];
        shifts?: unknown[];
      };
      assert.ok(Array.isArray(real.coverage), 'the API reports coverage per bucket');
      const gapsOf = (cov: { t: string; fraction: number | null }[]): [string, number][] =>
        cov.filter((c) => c.fraction !== null && c.fraction < 1).map((c) => [c.t, c.fraction!]);
      assert.deepEqual(
        gapsOf(real.coverage),
        [
          [at(5), 0.5],
          [at(6), 0],
        ],
        'the recorded disconnect: minute 5 half covered, minute 6 not at all',
      );
      for (const chart of ['alpha', 'beta', 'gamma'].map((topic) => `#multiples figure[data-topic="${topic}"] svg`).concat('#volume-chart')) {
        const drawn = await overlaysOf(page, chart);
        assert.deepEqual(
          drawn.gaps.map(([t, f]) => [t, f]),
          gapsOf(real.coverage),
          `${chart}: the buckets not fully covered are shaded, no other`,
        );
        assert.deepEqual(
          drawn.gaps.map(([, , tip]) => tip),
          ['stream gap: connected 50 % of the bucket from 10:05:00 UTC', 'stream gap: connected 0 % of the bucket from 10:06:00 UTC'],
        );
      }
      assert.match((await page.textContent('#key')) ?? '', /stream gap/, 'the key says what the shading means');
      if (!real.shifts) assert.match((await page.textContent('#shifts')) ?? '', /reports no shift detection/);

      // 2. The retweet control: the API is asked with amplification=count, the page redrawn to match.
      let request = sentimentRequest(page, (p) => p.get('amplification') === 'count');
      await page.selectOption('#amplification', 'count');
      await request;
      updates = await waitForUpdate(page, updates);
      assert.deepEqual(await drawnBucket(page, 'beta', 20), { faded: false, band: true, bandFaded: false }, 'counting each retweet: 35 opinions');
      assert.equal(await page.getAttribute('#score-chart', 'data-amplification'), 'count');
      await assertPageMatchesStore(page, query);
      assert.match(page.url(), /amplification=count/, 'the page URL keeps the choice');

      // 3. The language control: langs=en leaves gamma (de) out.
      request = sentimentRequest(page, (p) => p.get('langs') === 'en' && p.get('amplification') === 'count');
      await page.fill('#langs', 'en');
      await page.press('#langs', 'Enter');
      await request;
      updates = await waitForUpdate(page, updates);
      assert.deepEqual((await multiples(page)).map((m) => m.topic).sort(), ['alpha', 'beta']);
      await assertPageMatchesStore(page, query);
      // A language code the API refuses is said on the page, not drawn as an empty store.
      await page.fill('#langs', 'e n!');
      await page.press('#langs', 'Enter');
      await page.waitForFunction(`document.getElementById('status').className === 'bad'`, undefined, { timeout: 15_000 });
      assert.match((await page.textContent('#status')) ?? '', /langs/);
      await page.fill('#langs', 'all');
      await page.press('#langs', 'Enter');
      await waitForUpdate(page, updates);
      assert.equal((await multiples(page)).length, 3, 'all: every language again');

      // 4. One combined chart instead, and back; the choice survives a reload through the URL.
      await page.selectOption('#charts', 'combined');
      assert.equal((await multiples(page)).length, 0);
      const combined = await assertPageMatchesStore(page, query);
      assert.equal(combined.points, shown.points, 'the same points in one chart');
      assert.match(page.url(), /charts=combined/);
      request = sentimentRequest(page, (p) => p.get('amplification') === 'count' && p.get('window') === 'all');
      await page.reload();
      await request;
      await waitForUpdate(page, 0);
      assert.equal(await page.inputValue('#amplification'), 'count');
      assert.equal(await page.inputValue('#charts'), 'combined');
      await page.selectOption('#charts', 'multiples');
      assert.equal((await multiples(page)).length, 3);
      await assertPageMatchesStore(page, query);

      // 5. Shifts drawn as the API gives them (set here in the store's real answer, with minute 5's
      // coverage made unknown: null is not shaded): each charted topic's shifts are markers on its
      // chart, volume shifts on the volume chart too; a click shows before → after and the post ids;
      // every shift (charted or not) is in the table.
      const shifts = [
        {
          topic: 'alpha',
          kind: 'mean',
          direction: 'up',
          detectedAt: at(9),
          changeAt: at(8),
          volumeChange: 1.25,
          postIds: ['1234567890123456789', '42'],
          before: { n: 280, meanScore: 0.1, meanScoreCi95: [0.05, 0.15], postsPerMinute: 35 },
          after: { n: 70, meanScore: 0.4, meanScoreCi95: [0.3, 0.5], postsPerMinute: 35 },
        },
        {
          topic: 'beta',
          kind: 'volume',
          direction: 'down',
          detectedAt: at(23),
          changeAt: at(22),
          volumeChange: 0.1,
          postIds: [],
          before: { n: 70, meanScore: 0, meanScoreCi95: [-0.1, 0.1], postsPerMinute: 35 },
          after: { n: 0, meanScore: 0, meanScoreCi95: null, postsPerMinute: 0 },
        },
        {
          topic: 'delta',
          kind: 'mean',
          direction: 'down',
          detectedAt: at(41),
          changeAt: at(40),
          volumeChange: null,
          postIds: ['7'],
          before: { n: 50, meanScore: 0.2, meanScoreCi95: [0.1, 0.3], postsPerMinute: 2 },
          after: { n: 40, meanScore: -0.2, meanScoreCi95: [-0.3, -0.1], postsPerMinute: 2 },
        },
      ];
      await page.route(
        (url) => url.pathname === '/dashboard/api/sentiment',
        async (route) => {
          const response = await route.fetch();
          const view = (await response.json()) as { coverage: { t: string; fraction: number | null }[] };
          const coverage = view.coverage.map((c) => (c.t === at(5) ? { ...c, fraction: null } : c));
          await route.fulfill({ response, json: { ...view, coverage, shifts } });
        },
      );
      await page.reload();
      await waitForUpdate(page, 0);
      const wantDrawn: [string, number][] = [[at(6), 0]];
      for (const topic of ['alpha', 'beta', 'gamma']) {
        const drawn = await overlaysOf(page, `#multiples figure[data-topic="${topic}"] svg`);
        assert.deepEqual(
          drawn.gaps.map(([t, f]) => [t, f]),
          wantDrawn,
          `${topic}: a bucket of unknown coverage is not shaded`,
        );
        const own = shifts.filter((s) => s.topic === topic).map((s) => `${s.topic} ${s.kind} ${s.direction} ${s.changeAt}`);
        assert.deepEqual(drawn.shifts, own, `${topic}: its own shifts are marked, no other`);
      }
      const volume = await overlaysOf(page, '#volume-chart');
      assert.deepEqual(
        volume.gaps.map(([t, f]) => [t, f]),
        wantDrawn,
      );
      assert.deepEqual(volume.shifts, [`beta volume down ${at(22)}`], 'the volume chart marks the volume shift');
      assert.equal(await page.isHidden('#shift-details'), true);
      const marker = page.locator('#multiples figure[data-topic="alpha"] g.shift');
      assert.match(
        (await marker.locator(':scope > title').textContent()) ?? '',
        /before: mean 0\.100 \[0\.050, 0\.150\], n 280/,
        'the marker says before → after on hover',
      );
      await marker.click();
      const details = (await page.textContent('#shift-details')) ?? '';
      assert.equal(await page.isVisible('#shift-details'), true);
      for (const want of [
        /mean score ▲ up/,
        /before\s*mean 0\.100 \[0\.050, 0\.150\], n 280, 35\.0 posts\/min/,
        /after\s*mean 0\.400 \[0\.300, 0\.500\], n 70/,
        /volume\s*×1\.25/,
        /1234567890123456789/,
      ])
        assert.match(details, want);
      assert.equal(await page.getAttribute('#shift-details a', 'href'), 'https://x.com/i/web/status/1234567890123456789');
      const table = await page.$$eval('#shifts tbody tr', (rows: DomElement[]) =>
        rows.map((r) => `${r.getAttribute('data-topic')} ${r.getAttribute('data-kind')}`),
      );
      assert.deepEqual(table, ['alpha mean', 'beta volume', 'delta mean'], 'every shift is listed, charted or not');
      assert.match(
        (await page.textContent('#shifts tr[data-topic="delta"]')) ?? '',
        /from none before/,
        'a volume change from nothing (Infinity, null in JSON) is said in words',
      );
      assert.equal(await page.getAttribute('#shifts tr[data-topic="alpha"]', 'class'), 'selected');
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-artifacts/dashboard-features.png'), fullPage: true });
      assert.ok((await updatesOf(page)) >= 1);
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      await browser?.close();
      await server.close();
      await query.close();
    }
  },
);
