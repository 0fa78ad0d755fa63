import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readiness } from './health.js';
import { accessCheck, PROBE_PATHS, type AccessCheck } from './http-access.js';
import { logger } from './log.js';
import { registry } from './metrics.js';

const log = logger('http');

/** What a client sees when a route throws: nothing of the error itself (no message, path or stack). */
const INTERNAL_ERROR_BODY = JSON.stringify({ error: 'internal error', code: 'CP_INTERNAL' });

/** Extra routes a role mounts on its HTTP port (e.g. the dashboard, an admin API). Return false to pass. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface TelemetryServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export interface AccessOptions {
  /** Every path but the probes and `selfAuthenticated` needs it (src/telemetry/http-access.ts); none = open. */
  readonly token: string | undefined;
  /** Paths of routes that check a token of their own (the rules admin API). */
  readonly selfAuthenticated?: readonly string[];
}

/** One HTTP port per process: /metrics (Prometheus text), /healthz (alive), /readyz (ready to work), plus mounted routes. */
export async function startTelemetryServer(
  host: string,
  port: number,
  routes: readonly RouteHandler[] = [],
  access: AccessOptions = { token: undefined },
): Promise<TelemetryServer> {
  const gate: AccessCheck | undefined =
    access.token === undefined ? undefined : accessCheck(access.token, [...PROBE_PATHS, ...(access.selfAuthenticated ?? [])]);
  const server = createServer((req, res) => {
    if (gate?.(req, res)) return;
    void handle(req, res, routes).catch((e: unknown) => answerInternalError(req, res, e));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An unexpected error in a route: logged here in full, answered with a generic 500. */
function answerInternalError(req: IncomingMessage, res: ServerResponse, e: unknown): void {
  // The path only: a query string may carry values the operator would not want in a log.
  const path = (req.url ?? '/').split('?')[0];
  log.error('route failed', { method: req.method ?? '?', path, error: e instanceof Error ? e.message : String(e) });
  if (res.headersSent) {
    // Part of a response is already out: a 500 can no longer be sent, so cut the connection.
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(INTERNAL_ERROR_BODY);
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: readonly RouteHandler[]): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/metrics') {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
    return;
  }
  if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
    return;
  }
  if (req.method === 'GET' && path === '/readyz') {
    const state = await readiness();
    res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(state));
    return;
  }
  for (const route of routes) {
    if (await route(req, res)) return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}
