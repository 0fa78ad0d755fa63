import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { ROOT, tempDir } from '../helpers.js';
import { CrowdpulseProcess, FIXTURES, eventually, haveFastModel, need } from '../ops/support.js';
import { assertPageMatchesStore, CHROMIUM, CHROMIUM_ARGS, shareRows, updatesOf, waitForUpdate, type DomElement } from './page-check.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const dir = tempDir('dashboard');
const URL_LINE = /on (http:\/\/127\.0\.0\.1:\d+)/;

test('the dashboard shows a replay as the store holds it, updates live, and is served on the run port', { timeout: 300_000 }, async (t) => {
  if (!need(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`, 'bash scripts/chromium.sh install')) return;
  if (!need(t, haveFastModel(), 'models/fast/model.json', 'train the fast model (models/training/train_fast.py) or fetch the release model')) return;
  const db = join(dir, 'replay.db');
  const env = { CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'), CROWDPULSE_LOG_PROGRESS: 'off' };
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, '- value: "acme OR #acme lang:en"\n  tag: "brand:acme"\n- value: "(bitcoin OR ethereum) -is:retweet"\n  tag: crypto\n');

  // 1. A short replay into a fresh store.
  const first = new CrowdpulseProcess(['run', '--input', FIXTURES, '--limit', '2000', '--db', db, '--port', '0'], env);
  assert.equal(await first.exited, 0, first.output.slice(-2000));

  const dashboard = new CrowdpulseProcess(['dashboard', '--db', db, '--port', '0', '--refresh', '1', '--rules', rulesFile, '--title', 'crowdpulse test'], env);
  let browser: Browser | undefined;
  let second: CrowdpulseProcess | undefined;
  const query = new SqliteQuery(db);
  try {
    const base = (await dashboard.waitFor(URL_LINE))[1]!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // 2. The page loads and its charts show exactly what the store returns.
    await page.goto(`${base}/dashboard/?window=all`);
    let updates = await waitForUpdate(page, 0);
    assert.equal(await page.title(), 'crowdpulse test');
    const shown = await assertPageMatchesStore(page, query);
    const stored = [...(await query.integrity()).rowsPerTopic.values()].reduce((a, b) => a + b, 0);
    const onPage = (await shareRows(page)).reduce((a, r) => a + r.count, 0);
    // #17.5: posts in languages the model does not support are left out of the counts, and shown as left out.
    const leftOut = (await shareRows(page)).reduce((a, r) => a + r.leftOut, 0);
    assert.equal(onPage + leftOut, stored, 'window=all: the shares table counts every stored row, counted or left out');
    assert.ok(shown.topics.length >= 5 && shown.points > 20, `a 2,000-post replay spans several topics and buckets: ${JSON.stringify(shown)}`);
    // #13.6: one small chart per topic (checked above), with interval bands and, at 2,000 posts over
    // a few dozen buckets, buckets of too few posts drawn faded.
    assert.ok(shown.bands > 0 && shown.faded > 0, `bands and faded buckets drawn: ${JSON.stringify(shown)}`);
    const rules = await page.$$eval('#rules tbody tr', (rs: DomElement[]) => rs.map((r) => r.textContent));
    assert.deepEqual(rules, ['brand:acmeacme OR #acme lang:en', 'crypto(bitcoin OR ethereum) -is:retweet']);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // 3. Live: a second, paced replay writes more posts into the same store; the open page follows
    // without a reload, and the same page is served on that run's own port with its pipeline health.
    second = new CrowdpulseProcess(['run', '--input', FIXTURES, '--limit', '4000', '--mode', 'rate', '--rate', '400', '--db', db, '--port', '0'], env);
    const runBase = (await second.waitFor(URL_LINE))[1]!;
    const mounted = await browser.newPage();
    await mounted.goto(`${runBase}/dashboard/?window=all&refresh=1`);
    const storeTotal = await eventually(
      "store throughput on the run port's page",
      async () => {
        await waitForUpdate(mounted, await updatesOf(mounted));
        const total = await mounted.$eval('#health dd[data-stage="store"]', (d: DomElement) => Number(d.getAttribute('data-total'))).catch(() => 0);
        return total > 0 ? total : undefined;
      },
      60_000,
    );
    assert.ok(storeTotal > 0);
    const grown = await eventually(
      'the open page to show the new posts',
      async () => {
        updates = await waitForUpdate(page, updates);
        const total = (await shareRows(page)).reduce((a, r) => a + r.count, 0);
        return total > onPage ? total : undefined;
      },
      60_000,
    );
    assert.ok(grown > onPage);
    assert.equal(await second.exited, 0, second.output.slice(-2000));

    // 4. After the replay, the page again matches the store.
    updates = await waitForUpdate(page, updates);
    await waitForUpdate(page, updates);
    await assertPageMatchesStore(page, query);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-live-replay.png'), fullPage: true });

    // 5. The retweet control asks the API to count each retweet, and the page again matches the store so counted.
    const counted = page.waitForRequest((r) => new URL(r.url()).searchParams.get('amplification') === 'count');
    await page.selectOption('#amplification', 'count');
    await counted;
    await page.waitForFunction(`document.getElementById('score-chart').dataset.amplification === 'count'`, undefined, { timeout: 15_000 });
    await assertPageMatchesStore(page, query);
    assert.deepEqual(errors, [], 'no script errors on the page');
  } finally {
    await browser?.close();
    await second?.stop();
    await dashboard.stop();
    await query.close();
  }
});
