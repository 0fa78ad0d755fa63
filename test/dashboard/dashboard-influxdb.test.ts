import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { ROOT, tempDir } from '../helpers.js';
import { testDatabase } from '../influxdb/server.js';
import { CrowdpulseProcess, FIXTURES, haveFastModel, need } from '../ops/support.js';
import { assertPageMatchesStore, CHROMIUM, CHROMIUM_ARGS, shareRows, waitForUpdate } from './page-check.js';

const dir = tempDir('dashboard-influx');

test('the dashboard over InfluxDB shows a replay as InfluxDB returns it', { timeout: 300_000 }, async (t) => {
  if (!need(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`, 'bash scripts/chromium.sh install')) return;
  if (!need(t, haveFastModel(), 'models/fast/model.json', 'train the fast model (models/training/train_fast.py)')) return;
  const db = await testDatabase(t);
  if (!db) return;
  const env = {
    CROWDPULSE_SINK_KIND: 'influxdb',
    CROWDPULSE_INFLUXDB_URL: db.url,
    CROWDPULSE_INFLUXDB_BUCKET: db.bucket,
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
    CROWDPULSE_LOG_PROGRESS: 'off',
  };
  let browser: Browser | undefined;
  let dashboard: CrowdpulseProcess | undefined;
  const query = new InfluxQuery(db.config());
  try {
    const run = new CrowdpulseProcess(['run', '--input', FIXTURES, '--limit', '1500', '--port', '0'], env);
    assert.equal(await run.exited, 0, run.output.slice(-2000));
    dashboard = new CrowdpulseProcess(['dashboard', '--port', '0', '--refresh', '1'], env);
    const base = (await dashboard.waitFor(/on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await page.goto(`${base}/dashboard/?window=all`);
    await waitForUpdate(page, 0);
    const shown = await assertPageMatchesStore(page, query);
    assert.ok(shown.points > 20 && shown.topics.length >= 5, JSON.stringify(shown));
    const stored = [...(await query.integrity()).rowsPerTopic.values()].reduce((a, b) => a + b, 0);
    // Posts in languages the model does not support (#17.5) are shown as left out, not counted.
    assert.equal(
      (await shareRows(page)).reduce((a, r) => a + r.count + r.leftOut, 0),
      stored,
    );
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts/dashboard-influxdb.png'), fullPage: true });
  } finally {
    await browser?.close();
    await dashboard?.stop();
    await query.close();
    await db.drop();
  }
});
