/**
 * #15.3: no open dashboard or metrics port beyond loopback. A role bound to 0.0.0.0 without an
 * access token does not start; with one, every path but the probes needs it, a browser gets it as
 * a cookie, and a real Prometheus scrapes with it (and is refused without it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { accessTokenFor, isLoopbackHost } from '../../src/telemetry/http-access.js';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';
import { RULES_ADMIN_PATH } from '../../src/x/rules-admin.js';
import { CrowdpulseProcess, FIXTURES, eventually, freePort, haveFastModel, need } from './support.js';
import { prometheusBinary, startPrometheus, type PrometheusServer } from './prometheus-server.js';

const dir = tempDir('http-access');
const TOKEN = 'a-test-token-of-some-length-0123';

test('#15.3 loopback hosts are open; any other host needs a token of at least 16 characters', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', 'example.org', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
  assert.equal(accessTokenFor('127.0.0.1', undefined), undefined);
  assert.equal(accessTokenFor('0.0.0.0', TOKEN), TOKEN);
  assert.throws(
    () => accessTokenFor('0.0.0.0', undefined),
    (e: Error & { code?: string }) => e.code === 'CP_HTTP_TOKEN' && /CROWDPULSE_HTTP_TOKEN/.test(e.message),
  );
  assert.throws(
    () => accessTokenFor('::', 'short'),
    (e: Error & { code?: string }) => e.code === 'CP_HTTP_TOKEN',
  );
});

test('#15.3 a route that checks its own token (the rules admin API) is left to it; everything else needs the access token', async () => {
  const seen: string[] = [];
  const server = await startTelemetryServer(
    '127.0.0.1',
    0,
    [
      (req, res) => {
        seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
        res.writeHead(204);
        res.end();
        return true;
      },
    ],
    { token: TOKEN, selfAuthenticated: [RULES_ADMIN_PATH] },
  );
  try {
    assert.equal((await fetch(`${server.url}${RULES_ADMIN_PATH}`, { headers: { authorization: 'Bearer the-admin-token' } })).status, 204);
    assert.equal((await fetch(`${server.url}/dashboard/`)).status, 401);
    assert.equal((await fetch(`${server.url}/dashboard/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 204);
    assert.equal((await fetch(`${server.url}/readyz`)).status !== 401, true);
    assert.deepEqual(seen, [`${RULES_ADMIN_PATH} Bearer the-admin-token`, `/dashboard/ Bearer ${TOKEN}`]);
  } finally {
    await server.close();
  }
});

test('#15.3 crowdpulse run on 0.0.0.0 without a token refuses to start (CP_HTTP_TOKEN, exit 2)', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const p = new CrowdpulseProcess(['run', '--input', FIXTURES, '--db', join(dir, 'refused.db'), '--port', String(port)], {
    CROWDPULSE_HTTP_HOST: '0.0.0.0',
    CROWDPULSE_HTTP_TOKEN: '',
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'refused-dead.ndjson'),
  });
  assert.equal(await p.exited, 2, p.output);
  assert.match(p.output, /CP_HTTP_TOKEN/);
});

test(
  '#15.3 on 0.0.0.0 with a token: probes open, /metrics 401 without it, bearer and cookie pass, Prometheus scrapes with it',
  { timeout: 180_000 },
  async (t) => {
    if (!need(t, haveFastModel(), 'models/fast/model.json', 'train the fast model (models/training/train_fast.py)')) return;
    const port = await freePort();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const role = new CrowdpulseProcess(
      ['run', '--input', FIXTURES, '--mode', 'rate', '--rate', '50', '--threads', '1', '--db', join(dir, 'run.db'), '--port', String(port)],
      {
        CROWDPULSE_HTTP_HOST: '0.0.0.0',
        CROWDPULSE_HTTP_TOKEN_FILE: tokenFile,
        CROWDPULSE_LOG_PROGRESS: 'off',
        CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
      },
    );
    const base = `http://127.0.0.1:${port}`;
    let prometheus: PrometheusServer | undefined;
    try {
      await eventually('ready', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 90_000);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const refused = await fetch(`${base}/metrics`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /Bearer/);
      assert.doesNotMatch(await refused.text(), /crowdpulse_posts_total/);
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
      const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /crowdpulse_posts_total/);
      // A browser: ?token= once, a 303 that drops it from the address and sets the cookie.
      const login = await fetch(`${base}/metrics?token=${TOKEN}`, { redirect: 'manual' });
      assert.equal(login.status, 303);
      assert.equal(login.headers.get('location'), '/metrics');
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
      assert.match(login.headers.get('set-cookie') ?? '', /HttpOnly/);
      assert.equal((await fetch(`${base}/metrics`, { headers: { cookie } })).status, 200);
      assert.equal((await fetch(`${base}/nowhere`, { headers: { cookie } })).status, 404);

      if (!need(t, prometheusBinary() !== undefined, 'prometheus', 'bash scripts/prometheus.sh install')) return;
      for (const [withToken, health] of [
        [true, 'up'],
        [false, 'down'],
      ] as const) {
        const scrapeDir = tempDir(`http-access-prometheus-${withToken}`);
        prometheus = await startPrometheus(scrapeDir, [`127.0.0.1:${port}`], 1, withToken ? tokenFile : undefined);
        const server = prometheus;
        const target = await eventually(`the target ${health}`, async () => (await server.targets()).find((x) => x.health === health), 30_000);
        if (!withToken) assert.match(target.lastError, /401/);
        await prometheus.stop();
        prometheus = undefined;
      }
    } finally {
      await prometheus?.stop();
      await role.stop();
    }
  },
);
