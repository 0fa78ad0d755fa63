/**
 * A client of the Confluent Schema Registry REST API (Confluent, Karapace, Apicurio's ccompat API,
 * Redpanda), over undici with timeouts: what crowdpulse needs to write and read the registry wire
 * format (src/kafka/codec.ts). Producers register their schema under `<topic>-value`
 * (TopicNameStrategy) after setting the subject's compatibility level and checking the schema
 * against the latest version; consumers fetch writer schemas by id.
 */
import { Agent } from 'undici';
import type { KafkaConfig } from '../config/sections/kafka.js';
import { CrowdpulseError } from '../errors.js';
import { logger } from '../telemetry/log.js';

const log = logger('schema-registry');
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface SchemaRegistryOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:18081/apis/ccompat/v7 (no credentials in it). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Longest one request may take (connect, headers, body). */
  readonly timeoutMs: number;
  /** How long transient failures (no answer, 408, 429, 5xx) are retried before giving up. */
  readonly retryMs: number;
}

/** How one request ended; never an exception. */
export type Answer =
  { readonly kind: 'http'; readonly status: number; readonly body: unknown; readonly text: string } | { readonly kind: 'unreachable'; readonly reason: string };

/** A writer schema by id, or why there is none: unknown (404), refused (another 4xx, an answer that is no schema), unreachable (retried in vain). */
export type SchemaLookup =
  | { readonly ok: true; readonly schema: string; readonly schemaType: string }
  | { readonly ok: false; readonly kind: 'unknown' | 'refused' | 'unreachable'; readonly reason: string };

/** Whether another try of the same request may succeed: no answer, 408, 429, 5xx. */
export const isTransient = (a: Answer): boolean => a.kind === 'unreachable' || a.status === 408 || a.status === 429 || a.status >= 500;

/** The one-line text of a failed answer, for logs and errors. */
export function describeAnswer(a: Answer): string {
  if (a.kind === 'unreachable') return a.reason;
  const message = typeof a.body === 'object' && a.body !== null && 'message' in a.body ? String(a.body.message) : a.text;
  return `HTTP ${a.status}${message ? `: ${message.slice(0, 300)}` : ''}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Full jitter over min(5 s, 200 ms · 2^attempt). */
const backoff = (attempt: number): number => Math.random() * Math.min(5000, 200 * 2 ** attempt);

export class SchemaRegistryClient {
  readonly #agent: Agent;
  readonly #base: URL;
  readonly #authorization: string | undefined;

  constructor(readonly options: SchemaRegistryOptions) {
    this.#base = new URL(options.url);
    this.#authorization = options.username !== '' ? `Basic ${Buffer.from(`${options.username}:${options.password}`, 'utf8').toString('base64')}` : undefined;
    this.#agent = new Agent({ connections: 4, keepAliveTimeout: 10_000, connect: { timeout: options.timeoutMs } });
  }

  /** A client for kafka.schemaRegistry*; undefined when no URL is configured. */
  static fromConfig(kafka: KafkaConfig): SchemaRegistryClient | undefined {
    if (kafka.schemaRegistryUrl === '') return undefined;
    return new SchemaRegistryClient({
      url: kafka.schemaRegistryUrl,
      username: kafka.schemaRegistryUsername,
      password: kafka.schemaRegistryPassword,
      timeoutMs: kafka.schemaRegistryTimeoutMs,
      retryMs: kafka.schemaRegistryRetryMs,
    });
  }

  /** The registry as logs and errors name it: origin and path, never credentials. */
  get where(): string {
    return `${this.#base.origin}${this.#base.pathname.replace(/\/$/, '')}`;
  }

  /** One request; the answer's JSON body parsed when it is JSON. */
  async call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json` };
    if (body !== undefined) headers['content-type'] = CONTENT_TYPE;
    if (this.#authorization) headers.authorization = this.#authorization;
    try {
      const res = await this.#agent.request({
        origin: this.#base.origin,
        path: `${this.#base.pathname.replace(/\/$/, '')}${path}`,
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { kind: 'http', status: res.statusCode, body: parsed, text: text.slice(0, 1000) };
    } catch (e) {
      const error = e as Error & { code?: string };
      return { kind: 'unreachable', reason: `${this.where} did not answer: ${error.code ? `${error.code} ` : ''}${error.message}` };
    }
  }

  /** `call`, retried while the failure is transient, until options.retryMs has passed; the last answer. */
  async callRetrying(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, signal?: AbortSignal): Promise<Answer> {
    const deadline = Date.now() + this.options.retryMs;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.call(method, path, body);
      if (!isTransient(answer)) return answer;
      const delay = backoff(attempt);
      if (Date.now() + delay > deadline || signal?.aborted) return answer;
      if (attempt === 1 || attempt % 5 === 0) log.warn('schema registry request failed, retrying', { path, attempt, error: describeAnswer(answer) });
      await sleep(delay);
    }
  }

  /**
   * Registers `schema` (Avro, as JSON text) under `subject` and returns its id: sets the subject's
   * compatibility level, checks the schema against the latest version, then registers it (the same
   * schema again returns its existing id). Throws CP_SCHEMA_INCOMPATIBLE when the registry finds it
   * incompatible, CP_SCHEMA_REGISTRY when the registry cannot be reached or refuses otherwise.
   */
  async register(subject: string, schema: string, compatibility: string): Promise<number> {
    const s = encodeURIComponent(subject);
    const payload = { schema, schemaType: 'AVRO' };
    const fail = (what: string, a: Answer): CrowdpulseError =>
      new CrowdpulseError('CP_SCHEMA_REGISTRY', `schema registry ${this.where}: ${what} for subject ${subject} failed: ${describeAnswer(a)}`);

    const setLevel = (): Promise<Answer> => this.callRetrying('PUT', `/config/${s}`, { compatibility });
    const config = await setLevel();
    // Apicurio answers 404 to setting the level of a subject without versions (Confluent accepts it):
    // then the level is set right after the first version is registered (nothing to be compatible with before).
    const levelAfter = config.kind === 'http' && config.status === 404;
    if (!levelAfter && (config.kind !== 'http' || config.status !== 200)) throw fail(`setting compatibility ${compatibility}`, config);

    const check = await this.callRetrying('POST', `/compatibility/subjects/${s}/versions/latest?verbose=true`, payload);
    // 404: the subject has no version yet (Confluent answers 40401/40402), so nothing to be incompatible with.
    if (check.kind !== 'http' || (check.status !== 200 && check.status !== 404)) throw fail('the compatibility check', check);
    if (check.status === 200) {
      const body = check.body as { is_compatible?: unknown; messages?: unknown } | undefined;
      if (body?.is_compatible !== true) {
        const messages = Array.isArray(body?.messages) && body.messages.length > 0 ? `: ${body.messages.map(String).join('; ').slice(0, 500)}` : '';
        throw new CrowdpulseError(
          'CP_SCHEMA_INCOMPATIBLE',
          `schema registry ${this.where}: our schema is not ${compatibility}-compatible with the latest version of subject ${subject}${messages}`,
        );
      }
    }

    const registered = await this.callRetrying('POST', `/subjects/${s}/versions`, payload);
    if (registered.kind === 'http' && registered.status === 409)
      throw new CrowdpulseError(
        'CP_SCHEMA_INCOMPATIBLE',
        `schema registry ${this.where}: subject ${subject} refused our schema as incompatible: ${describeAnswer(registered)}`,
      );
    const id = registered.kind === 'http' && registered.status === 200 ? (registered.body as { id?: unknown } | undefined)?.id : undefined;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw fail('registering the schema', registered);
    if (levelAfter) {
      const again = await setLevel();
      // NONE on Apicurio is the absence of a rule, and removing one that is not there is a 404 too.
      const ok = again.kind === 'http' && (again.status === 200 || (again.status === 404 && compatibility === 'NONE'));
      if (!ok) throw fail(`setting compatibility ${compatibility}`, again);
    }
    log.info('schema registered', { subject, id, compatibility, registry: this.where });
    return id;
  }

  /** The schema registered under `id` (retried while the registry does not answer, until options.retryMs). */
  async schemaById(id: number, signal?: AbortSignal): Promise<SchemaLookup> {
    const a = await this.callRetrying('GET', `/schemas/ids/${id}`, undefined, signal);
    if (a.kind === 'unreachable') return { ok: false, kind: 'unreachable', reason: a.reason };
    if (a.status === 404) return { ok: false, kind: 'unknown', reason: `schema id ${id} is not in the registry ${this.where} (${describeAnswer(a)})` };
    if (isTransient(a)) return { ok: false, kind: 'unreachable', reason: `schema registry ${this.where} failed for schema id ${id}: ${describeAnswer(a)}` };
    const body = a.body as { schema?: unknown; schemaType?: unknown } | undefined;
    if (a.status !== 200 || typeof body?.schema !== 'string')
      return { ok: false, kind: 'refused', reason: `schema registry ${this.where} refused schema id ${id}: ${describeAnswer(a)}` };
    return { ok: true, schema: body.schema, schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO' };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
