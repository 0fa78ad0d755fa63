/**
 * #13.5: sentiment-shift alerts to a webhook, against a real receiver on 127.0.0.1: JSON with an
 * idempotency key, retries with backoff as src/alerts/retry.ts decides, a bounded queue that drops
 * its oldest alert, and a close() that never hangs. Counted in the metrics, logged without the URL's
 * credentials.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertNotifierOf, WebhookNotifier, WEBHOOK_QUEUE, type WebhookOptions } from '../../src/alerts/webhook.js';
import { backoffDelay, parseRetryAfter } from '../../src/alerts/retry.js';
import { loadConfig } from '../../src/config/load.js';
import { CrowdpulseError } from '../../src/errors.js';
import { registry } from '../../src/telemetry/metrics.js';

interface Alert {
  readonly topic: string;
  readonly n: number;
}

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

/** What the receiver does with request number `n` (1-based): answer, or never answer. */
type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string } | 'hang';

interface Receiver {
  readonly url: string;
  readonly origin: string;
  readonly requests: Received[];
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1:0, closed when the test ends (also when it fails). */
async function receiver(t: TestContext, answer: (n: number) => Answer): Promise<Receiver> {
  const requests: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body, at: performance.now() });
      const a = answer(requests.length);
      if (a === 'hang') return;
      res.writeHead(a.status, a.headers ?? {}).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(close);
  return { url: `${origin}/hook`, origin, requests, close };
}

/** A notifier with test-sized backoffs, closed when the test ends (close is idempotent). */
function notifier(t: TestContext | undefined, url: string, over: Partial<WebhookOptions<Alert>> = {}): WebhookNotifier<Alert> {
  const webhook = new WebhookNotifier<Alert>({
    url,
    token: '',
    type: 'sentiment_shift',
    timeoutMs: 2000,
    maxAttempts: 4,
    retryInitialMs: 20,
    retryMaxDelayMs: 200,
    queueCapacity: 100,
    ...over,
  });
  t?.after(() => logOf(() => webhook.close(0)));
  return webhook;
}

/** The value of one labelled series, read through the shared registry. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, `${name} is registered`);
  const { values } = await m.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}
const deliveries = (outcome: string): Promise<number> => metric('crowdpulse_alert_webhook_deliveries_total', { outcome });
const attempts = (result: string): Promise<number> => metric('crowdpulse_alert_webhook_attempts_total', { result });

async function waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs `fn` with stderr (the log) captured instead of printed. */
async function logOf(fn: () => Promise<void>): Promise<string> {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

test('#13.5 an alert is POSTed as {type, id, event} JSON with content-type, user-agent and an idempotency key', async (t) => {
  const server = await receiver(t, () => ({ status: 204 }));
  const before = await deliveries('delivered');
  const webhook = notifier(t, server.url);
  assert.equal(webhook.notify({ topic: 'acme', n: 42 }), undefined, 'notify returns nothing to wait for');
  await waitFor('the delivery', async () => (await deliveries('delivered')) === before + 1);
  await webhook.close(1000);
  await server.close();

  assert.equal(server.requests.length, 1);
  const [request] = server.requests;
  assert.ok(request);
  assert.equal(request.path, '/hook');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['user-agent'], 'crowdpulse');
  assert.equal(request.headers.authorization, undefined);
  const body = JSON.parse(request.body) as { type: string; id: string; event: Alert };
  assert.deepEqual(Object.keys(body), ['type', 'id', 'event']);
  assert.equal(body.type, 'sentiment_shift');
  assert.deepEqual(body.event, { topic: 'acme', n: 42 });
  assert.match(body.id, /^[0-9a-f-]{36}$/);
  assert.equal(request.headers['idempotency-key'], body.id);
});

test('#13.5 a 503 is retried: two 503s then a 200 is three attempts with the same idempotency key and body, one delivery', async (t) => {
  const server = await receiver(t, (n) => (n <= 2 ? { status: 503 } : { status: 200 }));
  const [delivered, retried, ok] = [await deliveries('delivered'), await attempts('http_503'), await attempts('ok')];
  const webhook = notifier(t, server.url, { idOf: (a) => `shift-${a.topic}-${a.n}` });
  webhook.notify({ topic: 'acme', n: 1 });
  await waitFor('the delivery', async () => (await deliveries('delivered')) === delivered + 1);
  await webhook.close(1000);
  await server.close();

  assert.equal(server.requests.length, 3);
  assert.deepEqual(
    server.requests.map((r) => r.headers['idempotency-key']),
    ['shift-acme-1', 'shift-acme-1', 'shift-acme-1'],
  );
  assert.equal(new Set(server.requests.map((r) => r.body)).size, 1, 'every attempt sends the same bytes');
  assert.equal((JSON.parse(server.requests[0]?.body ?? '') as { id: string }).id, 'shift-acme-1');
  assert.equal(await attempts('http_503'), retried + 2);
  assert.equal(await attempts('ok'), ok + 1);
});

test('#13.5 Retry-After is honoured (seconds), and capped at retryMaxDelayMs', async (t) => {
  const honoured = await receiver(t, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
  const webhook = notifier(t, honoured.url, { retryMaxDelayMs: 5000 });
  webhook.notify({ topic: 'acme', n: 1 });
  await waitFor('the retry', () => honoured.requests.length === 2);
  await webhook.close(1000);
  await honoured.close();
  const [first, second] = honoured.requests;
  assert.ok(first && second);
  assert.ok(second.at - first.at >= 950, `waited ${Math.round(second.at - first.at)} ms, not the 1 s asked for`);

  const capped = await receiver(t, (n) => (n === 1 ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 }));
  const impatient = notifier(t, capped.url, { retryMaxDelayMs: 300 });
  impatient.notify({ topic: 'acme', n: 2 });
  await waitFor('the capped retry', () => capped.requests.length === 2, 3000);
  await impatient.close(1000);
  await capped.close();
  const gap = (capped.requests[1]?.at ?? 0) - (capped.requests[0]?.at ?? 0);
  assert.ok(gap >= 280 && gap < 2000, `waited ${Math.round(gap)} ms: the cap is 300 ms`);
});

test('#13.5 Retry-After as an HTTP date, and the full-jitter backoff bounds', () => {
  const now = Date.parse('2026-01-05T09:00:00Z');
  assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
  assert.equal(parseRetryAfter('Mon, 05 Jan 2026 08:00:00 GMT', now), 0, 'a date in the past: at once');
  assert.equal(parseRetryAfter('7', now), 7000);
  assert.equal(parseRetryAfter(['2'], now), 2000);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);

  const o = { initialMs: 500, maxDelayMs: 30_000 };
  assert.equal(
    backoffDelay(1, undefined, o, () => 0),
    0,
    'full jitter starts at 0',
  );
  assert.equal(
    backoffDelay(1, undefined, o, () => 0.999),
    499,
  );
  assert.equal(
    backoffDelay(3, undefined, o, () => 0.999),
    1998,
    '500·2² = 2000',
  );
  assert.equal(
    backoffDelay(20, undefined, o, () => 0.999),
    29_970,
    'capped at 30 s',
  );
  assert.equal(
    backoffDelay(1, 4000, o, () => 0.5),
    4000,
    'Retry-After is a lower bound',
  );
  assert.equal(
    backoffDelay(1, 3_600_000, o, () => 0.5),
    30_000,
    'and capped',
  );
});

test('#13.5 a 400 is given up at once: one attempt, counted failed, logged with its code and status', async (t) => {
  const server = await receiver(t, () => ({ status: 400, body: '{"error":"missing field text"}' }));
  const failed = await deliveries('failed');
  const webhook = notifier(t, server.url);
  const log = await logOf(async () => {
    webhook.notify({ topic: 'acme', n: 1 });
    await waitFor('the refusal', async () => (await deliveries('failed')) === failed + 1);
  });
  await new Promise((r) => setTimeout(r, 100));
  await webhook.close(1000);
  await server.close();
  assert.equal(server.requests.length, 1, 'not retried');
  assert.match(log, /WARN .*webhook alert failed: refused: HTTP 400: \{"error":"missing field text"\}.* code=CP_ALERT_WEBHOOK_FAILED/);
});

test('#13.5 an alert still failing after maxAttempts is given up: exactly maxAttempts requests, counted failed', async (t) => {
  const server = await receiver(t, () => ({ status: 500 }));
  const failed = await deliveries('failed');
  const webhook = notifier(t, server.url, { maxAttempts: 3 });
  const log = await logOf(async () => {
    webhook.notify({ topic: 'acme', n: 1 });
    await waitFor('giving up', async () => (await deliveries('failed')) === failed + 1);
  });
  await new Promise((r) => setTimeout(r, 100));
  await webhook.close(1000);
  await server.close();
  assert.equal(server.requests.length, 3);
  assert.match(log, /out of attempts: HTTP 500 .*code=CP_ALERT_WEBHOOK_FAILED .*attempts=3/);
});

test('#13.5 a timeout is retried: a receiver that hangs once, then answers, gets the alert on the second attempt', async (t) => {
  const server = await receiver(t, (n) => (n === 1 ? 'hang' : { status: 200 }));
  const [delivered, timeouts] = [await deliveries('delivered'), await attempts('timeout')];
  const webhook = notifier(t, server.url, { timeoutMs: 150 });
  webhook.notify({ topic: 'acme', n: 1 });
  await waitFor('the delivery', async () => (await deliveries('delivered')) === delivered + 1);
  await webhook.close(1000);
  await server.close();
  assert.equal(server.requests.length, 2);
  assert.equal(await attempts('timeout'), timeouts + 1);
});

test('#13.5 notify never blocks: 1,000 alerts to a hanging receiver return at once, the queue bound holds, the oldest are dropped and counted', async (t) => {
  const server = await receiver(t, () => 'hang');
  const dropped = await deliveries('dropped');
  const webhook = notifier(t, server.url, { queueCapacity: 10, timeoutMs: 60_000, idOf: (a) => `alert-${a.n}` });
  let notifyMs = 0;
  const log = await logOf(async () => {
    const started = performance.now();
    for (let n = 0; n < 1000; n++) webhook.notify({ topic: 'acme', n });
    notifyMs = performance.now() - started;
  });
  assert.ok(notifyMs < 1000, `1,000 notify calls took ${Math.round(notifyMs)} ms`);
  assert.equal(webhook.depth, 10, 'the queue holds at most queueCapacity alerts');
  assert.equal(await metric('crowdpulse_queue_depth', { queue: WEBHOOK_QUEUE }), 10);
  assert.equal(await metric('crowdpulse_queue_capacity', { queue: WEBHOOK_QUEUE }), 10);
  // One in flight (the first), ten waiting (the newest), the 989 between them dropped.
  assert.equal(await deliveries('dropped'), dropped + 989);
  assert.equal((log.match(/code=CP_ALERT_WEBHOOK_DROPPED/g) ?? []).length, 989);
  assert.match(log, /queue is full \(10 waiting\): the oldest alert goes code=CP_ALERT_WEBHOOK_DROPPED webhook=\S+ id=alert-1\n/);
  assert.ok(log.includes('id=alert-989\n') && !log.includes('id=alert-990\n'), 'the oldest go, the newest ten wait');
  await waitFor('the first request', () => server.requests.length === 1);
  assert.equal((JSON.parse(server.requests[0]?.body ?? '') as { event: Alert }).event.n, 0);

  const started = performance.now();
  await logOf(() => webhook.close(200));
  const closeMs = performance.now() - started;
  assert.ok(closeMs >= 150 && closeMs < 1500, `close(200) took ${Math.round(closeMs)} ms`);
  assert.equal(await deliveries('dropped'), dropped + 1000, 'the one in flight and the ten waiting are given up and counted');
  assert.equal(webhook.depth, 0);
  assert.equal(await metric('crowdpulse_queue_depth', { queue: WEBHOOK_QUEUE }), 0);
  await server.close();
});

test('#13.5 close() drains what is queued within its bound, then refuses new alerts (counted dropped, nothing sent)', async (t) => {
  const server = await receiver(t, () => ({ status: 200 }));
  const [delivered, dropped] = [await deliveries('delivered'), await deliveries('dropped')];
  const webhook = notifier(t, server.url);
  for (let n = 0; n < 5; n++) webhook.notify({ topic: 'acme', n });
  await webhook.close(5000);
  assert.equal(await deliveries('delivered'), delivered + 5, 'all five delivered before close returned');
  assert.deepEqual(
    server.requests.map((r) => (JSON.parse(r.body) as { event: Alert }).event.n),
    [0, 1, 2, 3, 4],
    'in order',
  );
  const log = await logOf(async () => webhook.notify({ topic: 'acme', n: 5 }));
  assert.match(log, /webhook alert dropped: the notifier is closed.*code=CP_ALERT_WEBHOOK_DROPPED/);
  assert.equal(await deliveries('dropped'), dropped + 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.requests.length, 5);
  await server.close();
});

test('#13.5 close() with a hanging receiver and a retry waiting returns within its bound and leaves no timer behind', async (t) => {
  // Only what holds the process open is listed (an unref'd timer is not).
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const idle = timers();
  const hanging = await receiver(t, () => 'hang');
  const webhook = notifier(t, hanging.url, { timeoutMs: 30_000 });
  webhook.notify({ topic: 'acme', n: 1 });
  webhook.notify({ topic: 'acme', n: 2 });
  await waitFor('the request', () => hanging.requests.length === 1);
  let started = performance.now();
  await logOf(() => webhook.close(250));
  let closeMs = performance.now() - started;
  assert.ok(closeMs < 1250, `close(250) took ${Math.round(closeMs)} ms`);
  assert.equal(timers(), idle, 'no timer of the notifier holds the process');
  await hanging.close();

  // A retry waiting out a long Retry-After is cut as well.
  const busy = await receiver(t, () => ({ status: 503, headers: { 'retry-after': '60' } }));
  const waiting = notifier(t, busy.url, { retryMaxDelayMs: 60_000 });
  waiting.notify({ topic: 'acme', n: 3 });
  await waitFor('the first attempt', () => busy.requests.length === 1);
  await new Promise((r) => setTimeout(r, 50));
  started = performance.now();
  await logOf(() => waiting.close(100));
  closeMs = performance.now() - started;
  assert.ok(closeMs < 1100, `close(100) during a 60 s backoff took ${Math.round(closeMs)} ms`);
  assert.equal(timers(), idle, 'nor does the backoff timer');
  await busy.close();
});

test('#13.5 credentials in the URL go as Basic auth and never into the log; its path and query are not logged either', async (t) => {
  const server = await receiver(t, () => ({ status: 401 }));
  const url = server.url.replace('http://', 'http://alice:s3cr%3At@') + '?key=q-9f8e7d';
  const webhook = notifier(t, url);
  const failed = await deliveries('failed');
  const log = await logOf(async () => {
    webhook.notify({ topic: 'acme', n: 1 });
    await waitFor('the refusal', async () => (await deliveries('failed')) === failed + 1);
    await webhook.close(1000);
  });
  await server.close();
  assert.equal(server.requests[0]?.headers.authorization, `Basic ${Buffer.from('alice:s3cr:t').toString('base64')}`);
  assert.equal(server.requests[0]?.path, '/hook?key=q-9f8e7d');
  assert.match(log, new RegExp(`code=CP_ALERT_WEBHOOK_FAILED webhook=${server.origin} `));
  for (const secret of ['alice', 's3cr', 'q-9f8e7d', '/hook']) assert.ok(!log.includes(secret), `the log shows ${secret}: ${log}`);

  const bearer = await receiver(t, () => ({ status: 200 }));
  const delivered = await deliveries('delivered');
  const withToken = notifier(t, bearer.url, { token: 'tok-1234' });
  withToken.notify({ topic: 'acme', n: 2 });
  await waitFor('the delivery', async () => (await deliveries('delivered')) === delivered + 1);
  await withToken.close(1000);
  await bearer.close();
  assert.equal(bearer.requests[0]?.headers.authorization, 'Bearer tok-1234');
});

test('#13.5 an alert that is not JSON is counted failed without throwing, and the next one is still delivered', async (t) => {
  const server = await receiver(t, () => ({ status: 200 }));
  const [failed, delivered] = [await deliveries('failed'), await deliveries('delivered')];
  const webhook = notifier(t, server.url);
  const cyclic: { topic: string; n: number; self?: unknown } = { topic: 'acme', n: 1 };
  cyclic.self = cyclic;
  const log = await logOf(async () => {
    webhook.notify(cyclic);
    webhook.notify({ topic: 'acme', n: 2 });
    await waitFor('the delivery', async () => (await deliveries('delivered')) === delivered + 1);
  });
  await webhook.close(1000);
  await server.close();
  assert.equal(await deliveries('failed'), failed + 1);
  assert.match(log, /^.* WARN .*not JSON-serialisable: Converting circular structure .*code=CP_ALERT_WEBHOOK_FAILED .*\n$/);
  assert.equal(log.split('\n').length, 2, `one log line: ${log}`);
  assert.equal(server.requests.length, 1);
});

test('#13.5 the constructor refuses a URL that is not http(s), and a token together with URL credentials', () => {
  for (const url of ['ftp://127.0.0.1/hook', 'file:///etc/passwd', 'not a url'])
    assert.throws(
      () => notifier(undefined, url),
      (e: unknown) => e instanceof CrowdpulseError && e.code === 'CP_CONFIG_INVALID',
      url,
    );
  assert.throws(() => notifier(undefined, 'https://u:p@example.com/', { token: 't' }), /either a token or user:password/);
  assert.throws(() => notifier(undefined, 'https://example.com/', { queueCapacity: 0 }), /queueCapacity must be an integer >= 1/);
});

test('#13.5 config: alerts.webhookUrl takes only http(s) URLs; empty (the default) means no webhook; a token with URL credentials is refused unshown', async () => {
  const defaults = loadConfig({});
  assert.ok(defaults.ok);
  assert.equal(defaults.value.alerts.webhookUrl, '');
  assert.equal(defaults.value.alerts.webhookMaxAttempts, 5);
  const none = alertNotifierOf<Alert>(defaults.value.alerts, 'sentiment_shift');
  assert.ok(!(none instanceof WebhookNotifier), 'no URL, no webhook');
  none.notify({ topic: 'acme', n: 1 });
  await none.close(10);

  for (const bad of ['ftp://example.com/hook', 'javascript:alert(1)', 'file:///etc/passwd']) {
    const r = loadConfig({ env: { CROWDPULSE_ALERTS_WEBHOOK_URL: bad } });
    assert.ok(!r.ok, bad);
    assert.equal(
      r.error.message,
      `config error: alerts.webhookUrl = "${bad}" (from environment CROWDPULSE_ALERTS_WEBHOOK_URL): expected an http:// or https:// URL`,
    );
  }
  const good = loadConfig({ env: { CROWDPULSE_ALERTS_WEBHOOK_URL: 'https://hooks.example.com/crowdpulse', CROWDPULSE_ALERTS_WEBHOOK_QUEUE_CAPACITY: '50' } });
  assert.ok(good.ok, good.ok ? '' : good.error.message);
  assert.equal(good.value.alerts.webhookQueueCapacity, 50);
  const webhook = alertNotifierOf<Alert>(good.value.alerts, 'sentiment_shift');
  assert.ok(webhook instanceof WebhookNotifier);
  await webhook.close(10);

  const both = loadConfig({ env: { CROWDPULSE_ALERTS_WEBHOOK_URL: 'https://u:p@hooks.example.com/', CROWDPULSE_ALERTS_WEBHOOK_TOKEN: 'tok-77aa' } });
  assert.ok(!both.ok);
  assert.match(both.error.message, /^config error: alerts\.webhookToken = <redacted> .*not both$/);
  assert.ok(!both.error.message.includes('tok-77aa'));
  assert.ok(!loadConfig({ env: { CROWDPULSE_ALERTS_WEBHOOK_MAX_ATTEMPTS: '0' } }).ok, 'at least one attempt');
});
