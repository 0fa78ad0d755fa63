import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { SentimentQuery } from '../../src/query/sentiment-query.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

interface Circle {
  topic: string;
  t: string;
  value: number;
}

/** What the page functions below use of a DOM element: they run in the browser, and this project's lib has no DOM types. */
export interface DomElement {
  getAttribute(name: string): string | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  readonly textContent: string | null;
}

const circles = (page: Page, chart: string): Promise<Circle[]> =>
  page.$$eval(`${chart} circle`, (nodes: DomElement[]) =>
    nodes.map((n) => ({
      topic: n.getAttribute('data-topic') ?? '',
      t: n.getAttribute('data-t') ?? '',
      value: Number(n.getAttribute('data-value')),
    })),
  );

/** Rows of the label-shares table: topic and post count as drawn. */
export const shareRows = (page: Page): Promise<{ topic: string; count: number; shares: number[] }[]> =>
  page.$$eval('#shares tbody tr', (rows: DomElement[]) =>
    rows.map((r) => ({
      topic: r.getAttribute('data-topic') ?? '',
      count: Number(r.getAttribute('data-count')),
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
 * Checks what the page draws against what the store returns for the same range, read here
 * directly through the query interface: every bucket of every charted topic is one point on the
 * score chart and one on the volume chart, with the store's values; the shares table lists every
 * topic of the range with the store's counts and shares.
 */
export async function assertPageMatchesStore(page: Page, query: SentimentQuery): Promise<{ points: number; topics: string[] }> {
  const range = await page.$eval('#score-chart', (svg: DomElement) => ({
    from: svg.getAttribute('data-from'),
    to: svg.getAttribute('data-to'),
    bucket: Number(svg.getAttribute('data-bucket-seconds')),
  }));
  assert.ok(range.from && range.to && range.bucket > 0, `the chart carries its range: ${JSON.stringify(range)}`);
  const from = new Date(range.from);
  const to = new Date(range.to);

  const summaries = await query.topics({ from, to });
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

  const scorePoints = await circles(page, '#score-chart');
  const charted = [...new Set(scorePoints.map((c) => c.topic))];
  assert.ok(charted.length > 0, 'the score chart shows topics');
  const buckets = await query.buckets({ from, to, topics: charted, bucketSeconds: range.bucket });
  const key = (topic: string, t: string): string => `${topic}@${t}`;
  const expectScore = new Map(buckets.map((b) => [key(b.topic, b.bucketStart), b.meanScore]));
  const expectCount = new Map(buckets.map((b) => [key(b.topic, b.bucketStart), b.count]));
  assert.equal(scorePoints.length, buckets.length, 'one score point per stored bucket');
  for (const c of scorePoints) {
    const want = expectScore.get(key(c.topic, c.t));
    assert.ok(want !== undefined, `score point ${key(c.topic, c.t)} is a stored bucket`);
    assert.ok(Math.abs(c.value - want) < 1e-9, `score ${key(c.topic, c.t)}: page ${c.value}, store ${want}`);
  }
  const volumePoints = await circles(page, '#volume-chart');
  assert.equal(volumePoints.length, buckets.length, 'one volume point per stored bucket');
  for (const c of volumePoints) assert.equal(c.value, expectCount.get(key(c.topic, c.t)), `volume ${key(c.topic, c.t)}`);
  return { points: scorePoints.length, topics: charted };
}
