import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { err } from '../../src/contract/index.js';
import { dashboardRoutes, lazyQuery } from '../../src/dashboard/index.js';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';

// Names a plain-object lookup would "find" (inherited from Object.prototype) and a traversal-ish one.
const HOSTILE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '..%2fpackage.json',
  '..%2f..%2fpackage.json',
  '%2e%2e%2fpackage.json',
];

test('#11.10 /dashboard/static/constructor (and other Object.prototype names, ..%2f) answers 404, never 500 with a path', async () => {
  const query = lazyQuery(() => err(new Error('no store in this test')));
  const server = await startTelemetryServer('127.0.0.1', 0, dashboardRoutes(query, { registry: new Registry() }));
  try {
    for (const name of HOSTILE_NAMES) {
      const res = await fetch(`${server.url}/dashboard/static/${name}`);
      const body = await res.text();
      assert.equal(res.status, 404, `${name}: ${res.status} ${body}`);
      assert.ok(!body.includes('/work') && !body.includes(process.cwd()), `${name}: the body shows no path: ${body}`);
    }
    // The real files are still served.
    const page = await fetch(`${server.url}/dashboard/static/dashboard.js`);
    assert.equal(page.status, 200);
    await page.arrayBuffer();
  } finally {
    await server.close();
  }
});
