/**
 * HTTP to InfluxDB over undici: the write request the sink drives, and a `Transport` for
 * @influxdata/influxdb-client's QueryApi. Both read `Retry-After` as the HTTP spec says — seconds
 * or an HTTP date — where the client library's own transport reads it as milliseconds.
 */
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { Readable } from 'node:stream';
import { HttpError, createTextDecoderCombiner, type CommunicationObserver, type SendOptions, type Transport } from '@influxdata/influxdb-client';
import { Agent, type Dispatcher } from 'undici';
import { parseRetryAfter } from '../../pipeline/retry-after.js';

export interface InfluxEndpoint {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token: string;
  readonly requestTimeoutMs: number;
}

/** Outcome of one write request: never throws for HTTP or network failures; the retry policy decides. */
export type WriteOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'http'; readonly status: number; readonly message: string; readonly retryAfterMs: number | undefined }
  | { readonly kind: 'network'; readonly code: string; readonly message: string };

export { parseRetryAfter };

const MAX_ERROR_BODY = 4096;

async function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  let out = '';
  for await (const chunk of body) {
    if (out.length < limit) out += Buffer.from(chunk as Uint8Array).toString('utf8');
  }
  return out.slice(0, limit);
}

/** The message of an InfluxDB error body (`{"error": ...}` in 1.8, `{"code","message"}` in 2.x). */
function errorMessage(status: number, text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown };
    const m = json.error ?? json.message;
    if (typeof m === 'string') return `HTTP ${status}: ${m}`;
  } catch {
    /* not JSON */
  }
  return `HTTP ${status}: ${text.trim().slice(0, 500) || '(empty body)'}`;
}

export class InfluxHttp {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #auth: Record<string, string>;

  constructor(
    readonly endpoint: InfluxEndpoint,
    connections = 4,
  ) {
    this.#base = new URL(endpoint.url.endsWith('/') ? endpoint.url : endpoint.url + '/');
    this.#agent = new Agent({ connections, keepAliveTimeout: 10_000, connect: { timeout: Math.min(10_000, endpoint.requestTimeoutMs) } });
    this.#auth = endpoint.token ? { authorization: `Token ${endpoint.token}` } : {};
  }

  url(path: string, query?: Record<string, string>): URL {
    const u = new URL(path.replace(/^\//, ''), this.#base);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v);
    return u;
  }

  /** POST /api/v2/write with nanosecond precision. */
  async write(body: Uint8Array, gzip: boolean, signal?: AbortSignal): Promise<WriteOutcome> {
    const url = this.url('api/v2/write', { org: this.endpoint.org, bucket: this.endpoint.bucket, precision: 'ns' });
    try {
      const res = await this.#agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: {
          ...this.#auth,
          'content-type': 'text/plain; charset=utf-8',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
        body,
        headersTimeout: this.endpoint.requestTimeoutMs,
        bodyTimeout: this.endpoint.requestTimeoutMs,
        signal,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump();
        return { kind: 'ok', status: res.statusCode };
      }
      const text = await readText(res.body, MAX_ERROR_BODY);
      return { kind: 'http', status: res.statusCode, message: errorMessage(res.statusCode, text), retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
    } catch (e) {
      const err = e as Error & { code?: string };
      if (signal?.aborted) throw e;
      return { kind: 'network', code: err.code ?? err.name, message: err.message };
    }
  }

  /** GET /health → true when the server says it passes. */
  async healthy(): Promise<boolean> {
    const url = this.url('health');
    try {
      const res = await this.#agent.request({ origin: url.origin, path: url.pathname, method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
      const text = await readText(res.body, MAX_ERROR_BODY);
      return res.statusCode === 200 && text.includes('"pass"');
    } catch {
      return false;
    }
  }

  /**
   * POST /api/v2/query: a Flux query's annotated CSV as text, for flux-csv.ts (a refused query throws
   * the client library's HttpError, as QueryApi does).
   */
  async queryCsv(query: string): Promise<string> {
    const body = { query, type: 'flux', dialect: { header: true, delimiter: ',', annotations: ['datatype', 'group', 'default'] } };
    const text: unknown = await this.transport().request(`/api/v2/query?org=${encodeURIComponent(this.endpoint.org)}`, body, {
      method: 'POST',
      headers: { accept: 'text/csv' },
    });
    return typeof text === 'string' ? text : '';
  }

  /** A Transport for the client library (QueryApi), over the same agent. */
  transport(): Transport {
    return new UndiciTransport(this.#agent, (p) => this.url(p), this.#auth, this.endpoint.requestTimeoutMs);
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** @influxdata/influxdb-client Transport over undici. */
class UndiciTransport implements Transport {
  readonly chunkCombiner = createTextDecoderCombiner();

  constructor(
    private readonly agent: Agent,
    private readonly url: (path: string) => URL,
    private readonly auth: Record<string, string>,
    private readonly timeoutMs: number,
  ) {}

  async #open(path: string, body: unknown, options: SendOptions): Promise<Dispatcher.ResponseData> {
    const url = this.url(path);
    const payload = body === undefined || body === null ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: options.method ?? 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...this.auth, ...(options.headers ?? {}) },
      body: payload,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: options.signal,
    });
    if (res.statusCode >= 300) {
      const text = await readText(res.body, MAX_ERROR_BODY);
      const retryAfter = parseRetryAfter(res.headers['retry-after']);
      const contentType = res.headers['content-type'];
      // HttpError takes Retry-After as a string of milliseconds: hand it the seconds converted.
      throw new HttpError(
        res.statusCode,
        undefined,
        text,
        retryAfter === undefined ? undefined : String(retryAfter),
        Array.isArray(contentType) ? contentType[0] : contentType,
        errorMessage(res.statusCode, text),
      );
    }
    return res;
  }

  send(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>): void {
    const run = async (): Promise<void> => {
      const res = await this.#open(path, body, options);
      callbacks?.responseStarted?.(res.headers, res.statusCode);
      for await (const chunk of res.body) callbacks?.next?.(chunk as Uint8Array);
      callbacks?.complete?.();
    };
    run().catch((e: unknown) => callbacks?.error?.(e as Error));
  }

  async request(path: string, body: unknown, options: SendOptions): Promise<unknown> {
    const res = await this.#open(path, body, options);
    const type = String(res.headers['content-type'] ?? '');
    return type.includes('json') ? res.body.json() : res.body.text();
  }

  async *iterate(path: string, body: unknown, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    const res = await this.#open(path, body, options);
    for await (const chunk of res.body as Readable) yield chunk as Uint8Array;
  }
}

/** The server, bucket and credentials of the influxdb config section, as the transport takes them. */
export function endpointOf(c: InfluxdbConfig): ConstructorParameters<typeof InfluxHttp>[0] {
  return { url: c.url, org: c.org, bucket: c.bucket, token: c.token, requestTimeoutMs: c.requestTimeoutMs };
}
