/**
 * A webhook notifier: alerts (any JSON-serialisable object, e.g. a shift event) POSTed to one URL,
 * beside the pipeline and never in its way. `notify` only encodes the alert and queues it; one
 * request is in flight at a time, in order, each retried as src/alerts/retry.ts decides. The queue
 * is bounded: when it is full the oldest alert waiting is dropped. Every alert ends counted in
 * crowdpulse_alert_webhook_deliveries_total (delivered, failed or dropped); every failed or dropped
 * one is logged with its code. Logs name the receiver by its origin only: credentials in the URL,
 * its path and its query (a Slack-style hook's secret) never appear.
 *
 * The request: POST, `content-type: application/json`, `user-agent: crowdpulse`,
 * `idempotency-key: <id>` (the same on every retry of an alert), `authorization` when a token or
 * URL credentials are configured; the body is `{"type": <type>, "id": <id>, "event": <alert>}`.
 */
import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import type { AlertsConfig } from '../config/sections/alerts.js';
import { CrowdpulseError } from '../errors.js';
import { logger } from '../telemetry/log.js';
import { alertWebhookAttemptsTotal, alertWebhookDeliveriesTotal, queueCapacity, queueDepth } from '../telemetry/metrics.js';
import { attemptLabel, backoffDelay, decide, parseRetryAfter, type AttemptResult } from './retry.js';

const log = logger('alerts');

/** Where alerts go: the store stage calls `notify` for each one and `close` on shutdown. */
export interface AlertNotifier<T extends object> {
  /** Queues one alert and returns at once; never throws, never waits for the network. */
  notify(alert: T): void;
  /** Stops accepting, delivers what is queued for up to `drainMs`, then gives up the rest. Never rejects. */
  close(drainMs: number): Promise<void>;
}

export interface WebhookOptions<T extends object> {
  /** http(s) URL; `user:password@` in it is sent as Basic auth. */
  readonly url: string;
  /** Bearer token, '' = none. Refused together with credentials in `url`. */
  readonly token: string;
  /** The body's `type`, e.g. "sentiment_shift". */
  readonly type: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryInitialMs: number;
  readonly retryMaxDelayMs: number;
  /** Alerts waiting behind the one in flight. */
  readonly queueCapacity: number;
  /** The alert's id (body `id`, `idempotency-key`); a random UUID per notify by default. A stable one lets receivers deduplicate across restarts. */
  readonly idOf?: (alert: T) => string;
}

/** An alert encoded once at notify, so that every attempt sends the same bytes. */
interface Pending {
  readonly id: string;
  readonly body: string;
}

/** Name of the notifier's queue in crowdpulse_queue_depth / crowdpulse_queue_capacity. */
export const WEBHOOK_QUEUE = 'alerts.webhook';
/** Bytes of a refusing answer's body kept for the log line. */
const SHOWN_BODY_BYTES = 200;

export class WebhookNotifier<T extends object> implements AlertNotifier<T> {
  readonly #options: WebhookOptions<T>;
  /** scheme://host:port, the only part of the URL a log line shows (never user:password@, which goes as a header). */
  readonly #origin: string;
  /** Path and query: sent, never logged. */
  readonly #path: string;
  readonly #headers: Record<string, string>;
  readonly #agent: Agent;
  readonly #pending: Pending[] = [];
  /** Aborted by close() past its bound: cuts the request in flight and any backoff wait. */
  readonly #shutdown = new AbortController();
  #accepting = true;
  /** The delivery loop while it runs; it ends when the queue is empty. */
  #driving: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WebhookOptions<T>) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new CrowdpulseError('CP_CONFIG_INVALID', 'alerts webhook: the URL is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new CrowdpulseError('CP_CONFIG_INVALID', `alerts webhook: expected an http:// or https:// URL, got ${url.protocol}`);
    const hasCredentials = url.username !== '' || url.password !== '';
    if (hasCredentials && options.token !== '')
      throw new CrowdpulseError('CP_CONFIG_INVALID', 'alerts webhook: set either a token or user:password in the URL, not both');
    for (const [name, value] of Object.entries({ timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, queueCapacity: options.queueCapacity })) {
      if (!Number.isInteger(value) || value < 1)
        throw new CrowdpulseError('CP_CONFIG_INVALID', `alerts webhook: ${name} must be an integer >= 1, got ${value}`);
    }
    this.#options = options;
    this.#origin = url.origin;
    this.#path = url.pathname + url.search;
    this.#headers = {
      'content-type': 'application/json',
      'user-agent': 'crowdpulse',
      ...(options.token !== '' ? { authorization: `Bearer ${options.token}` } : {}),
      ...(hasCredentials ? { authorization: `Basic ${basicCredentials(url)}` } : {}),
    };
    this.#agent = new Agent({ connections: 1, keepAliveTimeout: 10_000, connect: { timeout: options.timeoutMs } });
    queueCapacity.set({ queue: WEBHOOK_QUEUE }, options.queueCapacity);
    queueDepth.set({ queue: WEBHOOK_QUEUE }, 0);
  }

  /** Alerts waiting behind the one in flight. */
  get depth(): number {
    return this.#pending.length;
  }

  notify(alert: T): void {
    try {
      this.#enqueue(alert);
    } catch (e) {
      // A bug here must not reach the pipeline: count the alert, say why.
      this.#finished('failed', undefined, `could not queue the alert: ${(e as Error).message}`);
    }
  }

  #enqueue(alert: T): void {
    const id = this.#options.idOf?.(alert) ?? randomUUID();
    if (!this.#accepting) return this.#finished('dropped', id, 'the notifier is closed');
    let body: string;
    try {
      body = JSON.stringify({ type: this.#options.type, id, event: alert });
    } catch (e) {
      return this.#finished('failed', id, `the alert is not JSON-serialisable: ${(e as Error).message}`);
    }
    if (this.#pending.length >= this.#options.queueCapacity) {
      const oldest = this.#pending.shift();
      if (oldest) this.#finished('dropped', oldest.id, `the queue is full (${this.#options.queueCapacity} waiting): the oldest alert goes`);
    }
    this.#pending.push({ id, body });
    queueDepth.set({ queue: WEBHOOK_QUEUE }, this.#pending.length);
    this.#driving ??= this.#drive();
  }

  /** Delivers the queue in order, one alert at a time, until it is empty or the notifier is shut down. */
  async #drive(): Promise<void> {
    try {
      while (!this.#shutdown.signal.aborted) {
        const next = this.#pending.shift();
        if (!next) break;
        queueDepth.set({ queue: WEBHOOK_QUEUE }, this.#pending.length);
        await this.#deliver(next);
      }
    } catch (e) {
      log.error('webhook delivery loop failed (a bug); alerts still queued are delivered by the next notify', {
        code: 'CP_INTERNAL',
        error: (e as Error).message,
      });
    } finally {
      this.#driving = undefined;
    }
  }

  /** Every attempt one alert gets; ends with it counted. */
  async #deliver(alert: Pending): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.#attempt(alert);
      alertWebhookAttemptsTotal.inc({ result: attemptLabel(result) });
      const decision = decide(result);
      if (decision.action === 'delivered') return this.#finished('delivered', alert.id, undefined, attempt);
      if (decision.action === 'aborted') return this.#finished('dropped', alert.id, 'shut down while it was being sent', attempt);
      if (decision.action === 'give-up') return this.#finished('failed', alert.id, `refused: ${decision.reason}`, attempt);
      if (attempt >= this.#options.maxAttempts) return this.#finished('failed', alert.id, `out of attempts: ${decision.reason}`, attempt);
      const delay = backoffDelay(attempt, decision.retryAfterMs, { initialMs: this.#options.retryInitialMs, maxDelayMs: this.#options.retryMaxDelayMs });
      log.debug('webhook attempt failed; retrying', { webhook: this.#origin, id: alert.id, attempt, reason: decision.reason, delayMs: delay });
      if (!(await sleep(delay, this.#shutdown.signal))) return this.#finished('dropped', alert.id, 'shut down while waiting to retry', attempt);
    }
  }

  /** One POST with the per-attempt timeout; every failure becomes an AttemptResult. */
  async #attempt(alert: Pending): Promise<AttemptResult> {
    if (this.#shutdown.signal.aborted) return { kind: 'aborted' };
    const attempt = new AbortController();
    const timeout = setTimeout(() => attempt.abort(), this.#options.timeoutMs);
    timeout.unref();
    const onShutdown = (): void => attempt.abort();
    this.#shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    try {
      const res = await this.#agent.request({
        origin: this.#origin,
        path: this.#path,
        method: 'POST',
        headers: { ...this.#headers, 'idempotency-key': alert.id },
        body: alert.body,
        headersTimeout: this.#options.timeoutMs,
        bodyTimeout: this.#options.timeoutMs,
        signal: attempt.signal,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump();
        return { kind: 'ok', status: res.statusCode };
      }
      const body = await readStart(res.body, SHOWN_BODY_BYTES);
      return { kind: 'http', status: res.statusCode, retryAfterMs: parseRetryAfter(res.headers['retry-after']), body };
    } catch (e) {
      if (this.#shutdown.signal.aborted) return { kind: 'aborted' };
      if (attempt.signal.aborted) return { kind: 'timeout', timeoutMs: this.#options.timeoutMs };
      const err = e as Error & { code?: string };
      if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT')
        return { kind: 'timeout', timeoutMs: this.#options.timeoutMs };
      return { kind: 'network', code: err.code ?? err.name, message: err.message };
    } finally {
      clearTimeout(timeout);
      this.#shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }

  /** Counts an alert that is done with, and logs it unless it was delivered. */
  #finished(outcome: 'delivered' | 'failed' | 'dropped', id: string | undefined, reason: string | undefined, attempts?: number): void {
    alertWebhookDeliveriesTotal.inc({ outcome });
    if (outcome === 'delivered') {
      log.debug('webhook alert delivered', { webhook: this.#origin, id, attempts });
      return;
    }
    const code = outcome === 'failed' ? 'CP_ALERT_WEBHOOK_FAILED' : 'CP_ALERT_WEBHOOK_DROPPED';
    // One line whatever the reason holds (a JSON.stringify message spans several).
    log.warn(`webhook alert ${outcome}: ${(reason ?? '').replace(/\s*\n\s*/g, ' ')}`, {
      code,
      webhook: this.#origin,
      id,
      ...(attempts !== undefined ? { attempts } : {}),
    });
  }

  close(drainMs: number): Promise<void> {
    this.#closing ??= this.#close(drainMs);
    return this.#closing;
  }

  async #close(drainMs: number): Promise<void> {
    this.#accepting = false;
    try {
      // Drain: the loop ends on its own once the queue is empty; past the bound, cut it.
      const driving = this.#driving;
      if (driving && !(await settlesWithin(driving, drainMs))) {
        this.#shutdown.abort();
        // The request in flight ends at once on abort; the bound only guards against a misbehaving client.
        await settlesWithin(driving, 1000);
      }
      this.#shutdown.abort();
      const left = this.#pending.splice(0);
      queueDepth.set({ queue: WEBHOOK_QUEUE }, 0);
      for (const alert of left) this.#finished('dropped', alert.id, `still queued after the ${drainMs} ms drain at shutdown`);
    } catch (e) {
      log.error('closing the webhook notifier failed', { code: 'CP_INTERNAL', error: (e as Error).message });
    } finally {
      await this.#agent.destroy().catch(() => undefined);
    }
  }
}

/**
 * The notifier the alerts section asks for: a webhook when alerts.webhookUrl is set, otherwise one
 * that accepts and discards (nothing is configured to receive alerts, so nothing is counted).
 */
export function alertNotifierOf<T extends object>(alerts: AlertsConfig, type: string, idOf?: (alert: T) => string): AlertNotifier<T> {
  if (alerts.webhookUrl === '') return { notify: () => undefined, close: async () => undefined };
  return new WebhookNotifier<T>({
    url: alerts.webhookUrl,
    token: alerts.webhookToken,
    type,
    timeoutMs: alerts.webhookTimeoutMs,
    maxAttempts: alerts.webhookMaxAttempts,
    retryInitialMs: alerts.webhookRetryInitialMs,
    retryMaxDelayMs: alerts.webhookRetryMaxDelayMs,
    queueCapacity: alerts.webhookQueueCapacity,
    ...(idOf ? { idOf } : {}),
  });
}

/** user:password of a URL (percent-decoded, as a browser sends them) in Basic auth's base64. */
function basicCredentials(url: URL): string {
  return Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
}

/** The first `limit` bytes of a body as one line of text; the rest is discarded unread. */
async function readStart(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  let bytes = Buffer.alloc(0);
  for await (const chunk of body) {
    bytes = Buffer.concat([bytes, chunk as Buffer]);
    if (bytes.length >= limit) break;
  }
  return bytes.subarray(0, limit).toString('utf8').replace(/\s+/g, ' ').trim();
}

/** Waits `ms`; false when `signal` aborts first. The timer never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether `promise` settles within `ms`. The timer holds the process only for that bound, and is cleared either way. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), bound]);
  } finally {
    clearTimeout(timer);
  }
}
