import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { hasBearer } from '../telemetry/http-access.js';
import { systemClock, type Clock } from '../x/clock.js';
import { billingPeriod } from '../x/billing-period.js';
import type { RecordedPost } from './recorded-posts.js';
import { Publication } from './publication.js';
import { RateWindows, type WindowState } from './rate-windows.js';
import { countsRecent, QueryMasks, searchRecent, type RecentContext } from './recent-search.js';
import { RulesStore } from './rules-store.js';
import { fieldSelection, servedData, type FieldSelection, type Timestamps } from './serve-post.js';
import { StreamConnection, type Fault } from './stream-connection.js';
import { historyPlan, Timeline } from './timeline.js';
import * as xerr from './x-errors.js';

/**
 * How the emulator publishes (see timeline.ts and publication.ts): from the first stream connection
 * on, it publishes the recording at `rate` posts per second of those matching the stream's rules,
 * whether or not a connection is open, as X publishes. A stream connection is a position in that
 * timeline: it gets what is published while it is open and ready; what is published while no
 * connection is open, or while it is stalled (stall fault), it misses (X does not replay); a
 * connection that reads slowly (full socket, drip fault) keeps its place up to `maxBacklog` posts
 * and is then ended with X's operational-disconnect payload. A new connection starts after the
 * newest post published. search/recent and counts/recent read the same timeline (recent-search.ts).
 * The timeline runs on real time (Date.now()), as stream pacing; `clock` drives rate-limit windows
 * and the billing period only.
 */
export interface EmulatorOptions {
  readonly posts: readonly RecordedPost[];
  /** The bearer token clients must present. */
  readonly bearerToken: string;
  /** Time for rate-limit windows and the billing period (stream pacing and the publication timeline use real time). */
  readonly clock?: Clock;
  /** Posts published per second (of posts that match a rule; of all posts in the history). */
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
  /**
   * 'recorded' (default): posts are served with their recorded id and created_at. 'published': with
   * the publication time as created_at and a snowflake of it as id (unique across loops), on the
   * stream and in search alike.
   */
  readonly timestamps?: Timestamps;
  /**
   * Seconds of history the emulator starts with: the recording (all of its posts, since rules are not
   * known yet) considered published at `rate` posts per second over the seconds before start, for
   * search/recent and counts/recent (default 0; the formula is at historyPlan in timeline.ts).
   */
  readonly historySeconds?: number;
  /** Published posts a slow stream connection may fall behind before it is disconnected (default 10,000; 0 = no bound). */
  readonly maxBacklog?: number;
  /** How long before the request search/counts end_time must be (X: 10 s; default 10,000 ms). */
  readonly searchEndLagMs?: number;
}

/** X's published per-app limits for the endpoints crowdpulse uses (requests per 15 min). */
export const ENDPOINT_LIMITS: Readonly<Record<string, number>> = {
  'GET /2/tweets/search/stream': 50,
  'GET /2/tweets/search/stream/rules': 450,
  'POST /2/tweets/search/stream/rules': 450,
  'GET /2/usage/tweets': 50,
  'GET /2/tweets/search/recent': 450,
  'GET /2/tweets/counts/recent': 300,
};

const TICK_MS = 10;
/** Posts handed to one connection per call at most (the socket usually fills first). */
const MAX_DELIVER_PER_CALL = 5000;
const MAX_BODY = 1 << 20;

/** A running X API v2 emulator (see src/emulator/README section in the project README). */
export class XEmulator {
  readonly rules: RulesStore;
  private readonly clock: Clock;
  private readonly windows: RateWindows;
  private readonly connections = new Set<StreamConnection>();
  private readonly pendingFaults: Fault[] = [];
  private readonly refusals: { status: number; left: number }[] = [];
  private readonly timeline: Timeline;
  private readonly publication: Publication;
  private readonly masks: QueryMasks;
  private usage = 0;
  private usagePeriodStart: number;
  private ticker: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /**
   * Counters tests and the admin state endpoint read. postsServed: delivered on the stream;
   * postsPublished: on the timeline (history included); postsSearched: returned by search/recent.
   */
  readonly stats = {
    streamConnects: 0,
    gzipStreams: 0,
    streamRejected: { tooManyConnections: 0, usageCap: 0, rateLimit: 0, unauthorized: 0 },
    postsServed: 0,
    postsPublished: 0,
    postsSearched: 0,
    searchRequests: 0,
    countsRequests: 0,
    slowConsumerDisconnects: 0,
  };

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
    const loop = opts.loop !== false;
    this.timeline = new Timeline(
      historyPlan({ historySeconds: Math.max(0, opts.historySeconds ?? 0), rate: this.rate, recordingLength: opts.posts.length, loop, startMs: Date.now() }),
    );
    this.stats.postsPublished = this.timeline.size;
    this.publication = new Publication(opts.posts, this.timeline, this.rate, loop);
    this.masks = new QueryMasks(opts.posts, opts.maxRuleLength ?? 512);
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

  get rate(): number {
    return this.opts.rate ?? 50;
  }

  private get maxBacklog(): number {
    const b = this.opts.maxBacklog ?? 10_000;
    return b > 0 ? b : Infinity;
  }

  /** The history the emulator started with (count, time span): what search and counts can see before any stream connects. */
  get history(): { readonly count: number; readonly fromMs: number; readonly toMs: number } {
    const h = this.timeline.history;
    return { count: h.count, fromMs: h.originMs, toMs: h.endMs };
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
    const now = Date.now();
    this.stats.postsPublished += this.publication.publish(now, this.rules);
    for (const c of [...this.connections]) this.deliver(c, now);
  }

  /** Hands a connection what was published since its position, while it is ready; ends it when it falls too far behind. */
  private deliver(c: StreamConnection, now: number): void {
    const state = connState.get(c);
    if (!state || c.closed) return;
    const end = this.timeline.size;
    // A stalled connection (stall fault) misses what is published meanwhile, as a stalled X stream does.
    if (c.stalled(now)) {
      state.position = end;
      return;
    }
    state.position = Math.max(state.position, this.timeline.first);
    let sent = 0;
    while (state.position < end && sent < MAX_DELIVER_PER_CALL && c.ready(now)) {
      const abs = state.position++;
      const post = this.opts.posts[this.timeline.indexAt(abs)]!;
      const matched = this.rules.match(post.features);
      if (matched.length === 0) continue; // its rule was deleted since it was published
      this.rollPeriod();
      if (this.usage >= this.usageCap) {
        c.end();
        return;
      }
      this.usage++;
      this.stats.postsServed++;
      c.postsSent++;
      sent++;
      c.sendMessage(this.message(post, matched, state.fields, abs));
    }
    if (end - state.position > this.maxBacklog) {
      // X disconnects a consumer that cannot keep up.
      this.stats.slowConsumerDisconnects++;
      c.apply({ kind: 'error', close: true }, now);
    }
  }

  private message(post: RecordedPost, matched: { id: string; tag?: string }[], fields: FieldSelection, abs: number): Record<string, unknown> {
    const stamp = this.timestamps === 'published' ? { id: this.timeline.idAt(abs), createdAt: new Date(this.timeline.timeAt(abs)).toISOString() } : undefined;
    const msg: Record<string, unknown> = { data: servedData(post, fields, stamp) };
    if (post.includes !== undefined && fields.expansions) msg.includes = post.includes;
    msg.matching_rules = matched.map((r) => (r.tag === undefined ? { id: r.id } : { id: r.id, tag: r.tag }));
    return msg;
  }

  private get timestamps(): Timestamps {
    return this.opts.timestamps ?? 'recorded';
  }

  private recentContext(): RecentContext {
    return {
      posts: this.opts.posts,
      timeline: this.timeline,
      timestamps: this.timestamps,
      now: Date.now(),
      endLagMs: this.opts.searchEndLagMs ?? 10_000,
      masks: this.masks,
    };
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
      case 'GET /2/tweets/search/recent': {
        this.stats.searchRequests++;
        // X bills every post read: search draws on the same monthly cap as the stream.
        this.rollPeriod();
        if (this.usage >= this.usageCap) return send(res, xerr.usageCapExceeded(), window);
        const page = searchRecent(this.recentContext(), url.searchParams, this.usageCap - this.usage);
        if (!page.ok) return send(res, page.error, window);
        this.usage += page.value.served;
        this.stats.postsSearched += page.value.served;
        return sendJson(res, 200, page.value.body, window);
      }
      case 'GET /2/tweets/counts/recent': {
        this.stats.countsRequests++;
        const counts = countsRecent(this.recentContext(), url.searchParams);
        return counts.ok ? sendJson(res, 200, counts.value, window) : send(res, counts.error, window);
      }
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
    const conn = new StreamConnection(
      res,
      (c) => this.connections.delete(c),
      out,
      (c) => this.deliver(c, Date.now()),
    );
    // The first connection starts live publication; every connection starts after the newest post (no replay).
    this.publication.start(Date.now());
    connState.set(conn, { fields: fieldSelection(url.searchParams), position: this.timeline.size });
    this.connections.add(conn);
    const faults = this.pendingFaults.splice(0);
    for (const f of faults) conn.apply(f, Date.now());
  }

  private authorized(req: IncomingMessage): boolean {
    return hasBearer(req, Buffer.from(this.opts.bearerToken));
  }

  /** Loopback-only operator endpoints: state, fault injection, usage override. */
  private async handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'GET' && path === '/_emulator/state') {
      return sendJson(res, 200, {
        usage: this.currentUsage(),
        usageCap: this.usageCap,
        connections: this.connections.size,
        cursor: this.publication.position,
        posts: this.opts.posts.length,
        timestamps: this.timestamps,
        published: {
          total: this.timeline.size,
          history: this.timeline.history.count,
          live: this.timeline.liveCount,
          liveStarted: this.publication.live,
          historyFrom: new Date(this.timeline.history.originMs).toISOString(),
          historyTo: new Date(this.timeline.history.endMs).toISOString(),
        },
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

/** Per connection: the fields it asked for, and its position in the timeline (the next abs index it is due). */
const connState = new WeakMap<StreamConnection, { fields: FieldSelection; position: number }>();

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
