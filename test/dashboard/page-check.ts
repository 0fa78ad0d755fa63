import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { parseFilters } from '../../src/query/filters.js';
import type { SentimentQuery } from '../../src/query/sentiment-query.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

interface Circle {
  topic: string;
  t: string;
  value: number;
  /** Drawn faded: a bucket of too few posts. */
  faded: boolean;
}

interface Band {
  topic: string;
  t: string;
  lo: number;
  hi: number;
  faded: boolean;
}

/** What the page functions below use of a DOM element: they run in the browser, and this project's lib has no DOM types. */
export interface DomElement {
  getAttribute(name: string): string | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  readonly textContent: string | null;
}

/** The data points drawn in `charts` (a selector list), in document order. */
export const circles = (page: Page, charts: string): Promise<Circle[]> =>
  page.$$eval(
    charts
      .split(',')
      .map((c) => `${c.trim()} circle.point`)
      .join(', '),
    (nodes: DomElement[]) =>
      nodes.map((n) => ({
        topic: n.getAttribute('data-topic') ?? '',
        t: n.getAttribute('data-t') ?? '',
        value: Number(n.getAttribute('data-value')),
        faded: (n.getAttribute('class') ?? '').split(' ').includes('too-few'),
      })),
  );

/** The 95 % interval bands drawn in `chart`. */
export const bands = (page: Page, chart: string): Promise<Band[]> =>
  page.$$eval(`${chart} rect.band`, (nodes: DomElement[]) =>
    nodes.map((n) => ({
      topic: n.getAttribute('data-topic') ?? '',
      t: n.getAttribute('data-t') ?? '',
      lo: Number(n.getAttribute('data-lo')),
      hi: Number(n.getAttribute('data-hi')),
      faded: (n.getAttribute('class') ?? '').split(' ').includes('too-few'),
    })),
  );

/** The small multiples: each one's topic and the topics of the points drawn in it. */
export const multiples = (page: Page): Promise<{ topic: string; pointTopics: string[] }[]> =>
  page.$$eval('#multiples figure.multiple', (figures: DomElement[]) =>
    figures.map((f) => ({
      topic: f.getAttribute('data-topic') ?? '',
      pointTopics: [...f.querySelectorAll('circle.point')].map((c) => c.getAttribute('data-topic') ?? ''),
    })),
  );

/** Rows of the label-shares table: topic, post count and posts left out (unsupported languages) as drawn. */
export const shareRows = (page: Page): Promise<{ topic: string; count: number; leftOut: number; shares: number[] }[]> =>
  page.$$eval('#shares tbody tr', (rows: DomElement[]) =>
    rows.map((r) => ({
      topic: r.getAttribute('data-topic') ?? '',
      count: Number(r.getAttribute('data-count')),
      leftOut: Number(r.getAttribute('data-left-out')),
      shares: [...r.querySelectorAll('.bar > div')].map((d) => Number(d.getAttribute('data-share'))),
    })),
  );

/** How many times the page has drawn fresh data. */
export const updatesOf = async (page: Page): Promise<number> => Number(await page.evaluate('document.body.dataset.updates ?? 0'));

/** Waits until the page has drawn `n` more updates than it had. */
export async function waitForUpdate(page: Page, after: number, timeoutMs = 15_000): Promise<number> {
  await page.waitForFunction(`Number(document.body.dataset.updates ?? 0) > ${after}`, undefined, { timeout: timeoutMs });
  return updatesOf(page);
}

/**
 * Checks what the page draws against what the store returns for the same range and filters (which
 * the page writes on #score-chart), read here directly through the query interface: every bucket of
 * every charted topic is one point on the score chart(s) and one on the volume chart, with the
 * store's values, drawn faded exactly when the store marks it too few posts; in small-multiples mode
 * there is one chart per charted topic holding only that topic's points, and a band per bucket that
 * has an interval, with the store's bounds; the shares table lists every topic of the range with the
 * store's counts and shares.
 */
export async function assertPageMatchesStore(page: Page, query: SentimentQuery): Promise<{ points: number; topics: string[]; bands: number; faded: number }> {
  const range = await page.$eval('#score-chart', (svg: DomElement) => ({
    from: svg.getAttribute('data-from'),
    to: svg.getAttribute('data-to'),
    bucket: Number(svg.getAttribute('data-bucket-seconds')),
    mode: svg.getAttribute('data-mode'),
    langs: svg.getAttribute('data-langs') ?? '',
    amplification: svg.getAttribute('data-amplification') ?? '',
    authorCap: svg.getAttribute('data-author-cap') ?? '',
  }));
  assert.ok(range.from && range.to && range.bucket > 0, `the chart carries its range: ${JSON.stringify(range)}`);
  assert.ok(range.mode === 'multiples' || range.mode === 'combined', `the chart says how it is drawn: ${range.mode}`);
  const filters = parseFilters(range);
  assert.ok(filters.ok, `the page's filters parse: ${JSON.stringify(range)}`);
  const from = new Date(range.from);
  const to = new Date(range.to);

  const summaries = await query.topics({ from, to, ...filters.value });
  const rows = await shareRows(page);
  assert.deepEqual(
    rows.map((r) => [r.topic, r.count]),
    summaries.map((s) => [s.topic, s.count]),
    'shares table = store topics over the range',
  );
  for (const [i, row] of rows.entries()) {
    const s = summaries[i]!;
    const expected = [s.shares.negative, s.shares.neutral, s.shares.positive];
    row.shares.forEach((x, j) => assert.ok(Math.abs(x - expected[j]!) < 1e-9, `${row.topic} share ${j}: ${x} vs ${expected[j]}`));
  }

  const scorePoints = await circles(page, '#multiples, #score-chart');
  const charted = [...new Set(scorePoints.map((c) => c.topic))];
  assert.ok(charted.length > 0, 'the score chart shows topics');
  const buckets = await query.buckets({ from, to, topics: charted, bucketSeconds: range.bucket, ...filters.value });
  const key = (topic: string, t: string): string => `${topic}@${t}`;
  const stored = new Map(buckets.map((b) => [key(b.topic, b.bucketStart), b]));
  assert.equal(scorePoints.length, buckets.length, 'one score point per stored bucket');
  for (const c of scorePoints) {
    const want = stored.get(key(c.topic, c.t));
    assert.ok(want !== undefined, `score point ${key(c.topic, c.t)} is a stored bucket`);
    assert.ok(Math.abs(c.value - want.meanScore) < 1e-9, `score ${key(c.topic, c.t)}: page ${c.value}, store ${want.meanScore}`);
    assert.equal(c.faded, want.tooFewPosts, `score ${key(c.topic, c.t)} of ${want.opinions} opinions: faded on the page = too few posts in the store`);
  }
  const volumePoints = await circles(page, '#volume-chart');
  assert.equal(volumePoints.length, buckets.length, 'one volume point per stored bucket');
  for (const c of volumePoints) assert.equal(c.value, stored.get(key(c.topic, c.t))?.count, `volume ${key(c.topic, c.t)}`);

  const drawnBands = await bands(page, '#multiples');
  const figures = await multiples(page);
  if (range.mode === 'multiples') {
    assert.deepEqual(
      figures.map((f) => f.topic),
      charted,
      'one small chart per charted topic, in the order charted',
    );
    for (const f of figures) assert.ok(f.pointTopics.length > 0 && f.pointTopics.every((t) => t === f.topic), `the chart of ${f.topic} holds its points only`);
    const withInterval = buckets.filter((b) => b.meanScoreCi95 !== null);
    assert.equal(drawnBands.length, withInterval.length, 'one band per stored bucket with an interval (2 opinions or more)');
    for (const band of drawnBands) {
      const want = stored.get(key(band.topic, band.t));
      assert.ok(want?.meanScoreCi95, `band ${key(band.topic, band.t)} is a stored bucket with an interval`);
      assert.ok(
        Math.abs(band.lo - want.meanScoreCi95[0]) < 1e-9 && Math.abs(band.hi - want.meanScoreCi95[1]) < 1e-9,
        `band ${key(band.topic, band.t)}: ${band.lo}…${band.hi} vs ${want.meanScoreCi95.join('…')}`,
      );
      assert.equal(band.faded, want.tooFewPosts, `band ${key(band.topic, band.t)}: faded = too few posts`);
    }
  } else {
    assert.equal(figures.length, 0, 'combined: no small multiples');
    assert.equal(await page.locator('#multiples').isHidden(), true);
  }
  return { points: scorePoints.length, topics: charted, bands: drawnBands.length, faded: scorePoints.filter((c) => c.faded).length };
}
