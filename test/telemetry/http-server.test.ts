import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearReadiness, registerReadiness } from '../../src/telemetry/health.js';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';
import { postsTotal } from '../../src/telemetry/metrics.js';

test('/metrics, /healthz and /readyz on one port; readiness follows the registered checks', async () => {
  clearReadiness();
  let modelLoaded = false;
  registerReadiness('model', () => modelLoaded);
  const server = await startTelemetryServer('127.0.0.1', 0, [
    (req, res) => {
      if (req.url !== '/extra') return false;
      res.end('mounted');
      return true;
    },
  ]);
  try {
    postsTotal.inc({ stage: 'store', direction: 'out' }, 3);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /crowdpulse_posts_total\{stage="store",direction="out"\} 3/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { ready: false, checks: { model: false } });
    modelLoaded = true;
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    assert.equal(await (await fetch(`${server.url}/extra`)).text(), 'mounted');
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  } finally {
    await server.close();
    clearReadiness();
  }
});
