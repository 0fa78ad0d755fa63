import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../x/clock.js';
import { billingPeriod } from '../x/billing-period.js';
import type { RecordedPost } from './recorded-posts.js';
import { RateWindows, type WindowState } from './rate-windows.js';
import { RulesStore } from './rules-store.js';
import { StreamConnection, type Fault } from './stream-connection.js';
import * as xerr from './x-errors.js';

export interface EmulatorOptions {
  readonly posts: readonly RecordedPost[];
  /** The bearer token clients must present. */
  readonly bearerToken: string;
  /** Time for rate-limit windows and the billing period (stream pacing uses real timers). */
  readonly clock?: Clock;
  /** Posts per second served to a connection (of posts that match a rule). */
  readonly rate?: number;
  /** Milliseconds between keep-alive `\r\n`s (X: 20 s). */
  readonly keepAliveMs?: number;
  /** Start over at the end of the recording (default true). */
  readonly loop?: boolean;
  /** Posts per billing period before X answers UsageCapExceeded. */
  readonly usageCap?: number;
  readonly capResetDay?: number;
  readonly maxConnections?: number;
  readonly maxRules?: number;
  readonly maxRuleLength?: number;
  /** Requests per 15 minutes, by endpoint key (see ENDPOINT_LIMITS). */
  readonly rateLimits?: Readonly<Record<string, number>>;
  readonly initialRules?: readonly { value: string; tag?: string }[];
  /** Compress the stream with gzip when the client accepts it (as X does). */
  readonly gzip?: boolean;
}

/** X's published per-app limits for the endpoints crowdpulse uses (requests per 15 min). */
export const ENDPOINT_LIMITS: Readonly<Record<string, number>> = {
  'GET /2/tweets/search/stream': 50,
  'GET /2/tweets/search/stream/rules': 450,
  'POST /2/tweets/search/stream/rules': 450,
  'GET /2/usage/tweets': 50,
};

const TICK_MS = 10;
const MAX_SCAN_PER_TICK = 2000;
const MAX_BODY = 1 << 20;
/** Fields X returns whatever `tweet.fields` says. */
const DEFAULT_FIELDS = new Set(['id', 'text', 'edit_history_tweet_ids']);

/** A running X API v2 emulator (see src/emulator/README section in the project README). */
export class XEmulator {
  readonly rules: RulesStore;
  private readonly clock: Clock;
  private readonly windows: RateWindows;
  private readonly connections = new Set<StreamConnection>();
  private readonly pendingFaults: Fault[] = [];
  private readonly refusals: { status: number; left: number }[] = [];
  private fruitless = 0;
  private dryRulesVersion = -1;
  private cursor = 0;
  private usage = 0;
  private usagePeriodStart: number;
  private ticker: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** Counters tests and the admin state endpoint read. */
  readonly stats = { streamConnects: 0, gzipStreams: 0, streamRejected: { tooManyConnections: 0, usageCap: 0, rateLimit: 0, unauthorized: 0 }, postsServed: 0 };

  private constructor(
    private readonly opts: EmulatorOptions,
    private readonly server: Server,
    readonly url: string,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.windows = new RateWindows({ ...ENDPOINT_LIMITS, ...opts.rateLimits }, this.clock);
    this.rules = new RulesStore({ maxRules: opts.maxRules ?? 1000, maxLength: opts.maxRuleLength ?? 512 });
    for (const r of opts.initialRules ?? []) this.rules.apply({ add: [r] }, false);
    this.usagePeriodStart = billingPeriod(this.clock.now(), this.capResetDay).start;
  }

  static async start(opts: EmulatorOptions, host = '127.0.0.1', port = 0): Promise<XEmulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const emu = new XEmulator(opts, server, `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);
    server.on('request', (req, res) => {
      void emu.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ title: 'Internal Error', detail: (e as Error).message, type: 'about:blank', status: 500 }));
      });
    });
    emu.ticker = setInterval(() => emu.tick(), TICK_MS);
    emu.keepAliveTimer = setInterval(() => {
      for (const c of emu.connections) c.keepAlive(Date.now());
    }, opts.keepAliveMs ?? 20_000);
    return emu;
  }

  get capResetDay(): number {
    return this.opts.capResetDay ?? 1;
  }

  get usageCap(): number {
    return this.opts.usageCap ?? 10_000;
  }

  /** Posts delivered in the current billing period (what `GET /2/usage/tweets` reports). */
  currentUsage(): number {
    this.rollPeriod();
    return this.usage;
  }

  setUsage(n: number): void {
    this.rollPeriod();
    this.usage = n;
  }

  openConnections(): number {
    return this.connections.size;
  }

  /** Applies a fault to every open stream now, or to the next one if none is open. */
  inject(fault: Fault): void {
    if (fault.kind === 'refuse') {
      this.refusals.push({ status: fault.status, left: fault.count });
      return;
    }
    if (this.connections.size === 0) {
      this.pendingFaults.push(fault);
      return;
    }
    for (const c of [...this.connections]) c.apply(fault, Date.now());
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    clearInterval(this.keepAliveTimer);
    for (const c of [...this.connections]) c.end();
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private rollPeriod(): void {
    const start = billingPeriod(this.clock.now(), this.capResetDay).start;
    if (start !== this.usagePeriodStart) {
      this.usagePeriodStart = start;
      this.usage = 0;
    }
  }

  private tick(): void {
    if (this.connections.size === 0 || this.opts.posts.length === 0 || this.rules.size === 0) return;
    // A whole pass over the recording matched nothing: do not rescan until the rules change.
    if (this.dryRulesVersion === this.rules.version) return;
    const now = Date.now();
    const rate = this.opts.rate ?? 50;
    for (const c of this.connections) {
      if (!c.ready(now)) {
        // A connection held back (stall, drip, slow reader) does not get a burst afterwards.
        connStart.set(c, now - (c.postsSent * 1000) / rate);
        continue;
      }
      const due = Math.floor(((now - (connStart.get(c) ?? now)) * rate) / 1000) - c.postsSent;
      let scanned = 0;
      let sent = 0;
      while (sent < due && scanned < MAX_SCAN_PER_TICK && c.ready(now)) {
        if (this.cursor >= this.opts.posts.length) {
          if (this.opts.loop === false) break;
          this.cursor = 0;
        }
        const post = this.opts.posts[this.cursor++]!;
        scanned++;
        const matched = this.rules.match(post.features);
        if (matched.length === 0) {
          if (++this.fruitless >= this.opts.posts.length) {
            this.dryRulesVersion = this.rules.version;
            this.fruitless = 0;
            break;
          }
          continue;
        }
        this.fruitless = 0;
        this.rollPeriod();
        if (this.usage >= this.usageCap) {
          c.end();
          break;
        }
        this.usage++;
        this.stats.postsServed++;
        c.postsSent++;
        sent++;
        c.sendMessage(this.message(post, matched, c));
      }
      if (sent < due) connStart.set(c, now - (c.postsSent * 1000) / rate);
    }
  }

  private message(post: RecordedPost, matched: { id: string; tag?: string }[], c: StreamConnection): Record<string, unknown> {
    const fields = connFields.get(c);
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(post.data)) if (DEFAULT_FIELDS.has(k) || fields?.tweet.has(k)) data[k] = v;
    if (data.edit_history_tweet_ids === undefined) data.edit_history_tweet_ids = [post.data.id];
    const msg: Record<string, unknown> = { data };
    if (post.includes !== undefined && fields?.expansions) msg.includes = post.includes;
    msg.matching_rules = matched.map((r) => (r.tag === undefined ? { id: r.id } : { id: r.id, tag: r.tag }));
    return msg;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/+$/, '');
    if (path.startsWith('/_emulator/')) return this.handleAdmin(req, res, path);
    if (!this.authorized(req)) {
      if (path === '/2/tweets/search/stream') this.stats.streamRejected.unauthorized++;
      return send(res, xerr.unauthorized());
    }
    const key = `${req.method} ${path}`;
    if (!(key in ENDPOINT_LIMITS)) return send(res, xerr.notFound(path));
    const window = this.windows.take(key);
    if (!window.allowed) {
      if (path === '/2/tweets/search/stream') this.stats.streamRejected.rateLimit++;
      return send(res, xerr.tooManyRequests(), window);
    }
    switch (key) {
      case 'GET /2/tweets/search/stream':
        return this.openStream(req, res, url, window);
      case 'GET /2/tweets/search/stream/rules': {
        const ids = url.searchParams.get('ids')?.split(',').filter(Boolean);
        return sendJson(res, 200, this.rules.list(ids), window);
      }
      case 'POST /2/tweets/search/stream/rules': {
        const body = await readJson(req);
        if (!body.ok) return send(res, xerr.invalidRequest(body.error), window);
        const dryRun = url.searchParams.get('dry_run') === 'true';
        const result = this.rules.apply(body.value, dryRun);
        return sendJson(res, result.status, result.body, window);
      }
      case 'GET /2/usage/tweets':
        return sendJson(
          res,
          200,
          { data: { cap_reset_day: this.capResetDay, project_id: '1', project_cap: String(this.usageCap), project_usage: String(this.currentUsage()) } },
          window,
        );
    }
  }

  private openStream(req: IncomingMessage, res: ServerResponse, url: URL, window: WindowState): void {
    const refusal = this.refusals[0];
    if (refusal) {
      if (--refusal.left <= 0) this.refusals.shift();
      return send(res, xerr.serverError(refusal.status), window);
    }
    this.rollPeriod();
    if (this.usage >= this.usageCap) {
      this.stats.streamRejected.usageCap++;
      return send(res, xerr.usageCapExceeded(), window);
    }
    if (this.connections.size >= (this.opts.maxConnections ?? 1)) {
      this.stats.streamRejected.tooManyConnections++;
      return send(res, xerr.tooManyConnections(), window);
    }
    // X compresses the stream when asked (Accept-Encoding: gzip); every message is flushed as it is written.
    const gzip = this.opts.gzip === true && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...rateHeaders(window),
    });
    res.flushHeaders();
    this.stats.streamConnects++;
    let out: Writable = res;
    if (gzip) {
      const z = createGzip({ flush: zlibConstants.Z_SYNC_FLUSH });
      z.pipe(res);
      res.on('close', () => z.destroy());
      out = z;
      this.stats.gzipStreams++;
    }
    const conn = new StreamConnection(res, (c) => this.connections.delete(c), out);
    const tweetFields = url.searchParams.get('tweet.fields');
    connFields.set(conn, { tweet: new Set(tweetFields ? tweetFields.split(',') : []), expansions: url.searchParams.has('expansions') });
    connStart.set(conn, Date.now());
    this.connections.add(conn);
    const faults = this.pendingFaults.splice(0);
    for (const f of faults) conn.apply(f, Date.now());
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(header);
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    const expected = Buffer.from(this.opts.bearerToken);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Loopback-only operator endpoints: state, fault injection, usage override. */
  private async handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'GET' && path === '/_emulator/state') {
      return sendJson(res, 200, {
        usage: this.currentUsage(),
        usageCap: this.usageCap,
        connections: this.connections.size,
        cursor: this.cursor,
        posts: this.opts.posts.length,
        rules: this.rules.list().data ?? [],
        stats: this.stats,
      });
    }
    if (req.method === 'POST' && path === '/_emulator/faults') {
      const body = await readJson(req);
      const fault = body.ok ? parseFault(body.value) : undefined;
      if (!fault)
        return sendJson(res, 400, {
          error: 'expected {"kind":"drop"|"stall"|"drip"|"malformed"|"error"|"refuse", "ms"?, "bytes"?, "intervalMs"?, "close"?, "status"?, "count"?}',
        });
      this.inject(fault);
      return sendJson(res, 202, { injected: fault, connections: this.connections.size });
    }
    if (req.method === 'POST' && path === '/_emulator/usage') {
      const body = await readJson(req);
      const usage = body.ok ? (body.value as { usage?: unknown }).usage : undefined;
      if (typeof usage !== 'number' || !Number.isInteger(usage) || usage < 0)
        return sendJson(res, 400, { error: 'expected {"usage": <non-negative integer>}' });
      this.setUsage(usage);
      return sendJson(res, 200, { usage });
    }
    return sendJson(res, 404, { error: `unknown admin path ${path}` });
  }
}

const connFields = new WeakMap<StreamConnection, { tweet: Set<string>; expansions: boolean }>();
const connStart = new WeakMap<StreamConnection, number>();

export function parseFault(value: unknown): Fault | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const num = (x: unknown, d: number): number => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : d);
  switch (v.kind) {
    case 'drop':
      return { kind: 'drop' };
    case 'stall':
      return { kind: 'stall', ms: num(v.ms, 60_000) };
    case 'drip':
      return { kind: 'drip', ms: num(v.ms, 5_000), bytes: num(v.bytes, 7), intervalMs: num(v.intervalMs, 5) };
    case 'malformed':
      return { kind: 'malformed' };
    case 'error':
      return { kind: 'error', close: v.close === true };
    case 'refuse':
      return { kind: 'refuse', status: typeof v.status === 'number' && v.status >= 400 && v.status <= 599 ? v.status : 503, count: num(v.count, 1) };
    default:
      return undefined;
  }
}

function rateHeaders(w: WindowState): Record<string, string> {
  return { 'x-rate-limit-limit': String(w.limit), 'x-rate-limit-remaining': String(w.remaining), 'x-rate-limit-reset': String(w.reset) };
}

function sendJson(res: ServerResponse, status: number, body: unknown, window?: WindowState): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(window ? rateHeaders(window) : {}),
  });
  res.end(text);
}

function send(res: ServerResponse, e: xerr.XErrorResponse, window?: WindowState): void {
  sendJson(res, e.status, e.body, window);
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return { ok: false, error: `request body over ${MAX_BODY} bytes` };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (e) {
    return { ok: false, error: `request body is not JSON: ${(e as Error).message}` };
  }
}
