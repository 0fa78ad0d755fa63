import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';

test('#11.10 an unexpected error in a route answers a generic 500 (no message, path or stack) and is logged', async () => {
  const secretish = `ENOENT: no such file or directory, open '${process.cwd()}/src/secret-token-abc123'`;
  const server = await startTelemetryServer('127.0.0.1', 0, [
    (req) => {
      if (req.url?.startsWith('/boom')) throw new Error(secretish);
      return false;
    },
  ]);
  const logged: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array) => {
    logged.push(String(chunk));
    return true;
  };
  try {
    const res = await fetch(`${server.url}/boom?token=hunter2`);
    const body = await res.text();
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(body), { error: 'internal error', code: 'CP_INTERNAL' });
    for (const leak of ['/work', process.cwd(), 'ENOENT', 'secret-token', 'at ']) assert.ok(!body.includes(leak), `the body shows no ${leak}: ${body}`);
    const line = logged.find((l) => l.includes('route failed'));
    assert.ok(line, 'the error is logged');
    assert.match(line, /path=\/boom /);
    assert.match(line, /secret-token-abc123/, 'the log keeps the message for the operator');
    assert.ok(!line.includes('hunter2'), 'the query string is not logged');
    // The server keeps answering.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  } finally {
    process.stderr.write = write;
    await server.close();
  }
});
