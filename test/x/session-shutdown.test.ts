/**
 * A shutdown while the stream is still connecting ends the session at once. Before, the abort
 * listener was added only once connected, so a SIGTERM that came during connect was never seen
 * and ingest streamed on until podman's SIGKILL (found by scripts/stack.sh smoke).
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runSession } from '../../src/sources/x-stream/session.js';
import { framerLimits } from '../../src/sources/line-framer.js';
import { createXClient } from '../../src/x/client.js';
import { systemClock } from '../../src/x/clock.js';

test('SIGTERM while connecting: the session ends as a shutdown, without waiting for the answer', async () => {
  const held: ServerResponse[] = [];
  // Takes the stream request and answers only when told: a connect that is still in flight.
  const server = createServer((_req, res) => void held.push(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const controller = new AbortController();
    const session = runSession(
      {
        client: createXClient({ bearerToken: 'token', apiUrl: url }),
        clock: systemClock,
        keepAliveTimeoutMs: 60_000,
        tweetFields: ['created_at'],
        lineLimits: framerLimits({ maxMessageBytes: 1 << 20, deadLetterSnippetBytes: 256 }),
        signal: controller.signal,
      },
      { onMessage: () => 'continue', onKeepAlive: () => undefined, onConnected: () => undefined, hasRoom: () => true, setResume: () => undefined },
    );
    while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const end = await Promise.race([session, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
    assert.notEqual(end, 'hung', 'the session did not end after the shutdown');
    assert.equal((end as { cause: string }).cause, 'shutdown');
    // The stream answering now changes nothing (and throws nothing unhandled).
    for (const res of held) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('\r\n');
    }
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    for (const res of held) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
