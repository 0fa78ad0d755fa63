import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readiness } from './health.js';
import { registry } from './metrics.js';

/** Extra routes a role mounts on its HTTP port (e.g. the dashboard, an admin API). Return false to pass. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface TelemetryServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** One HTTP port per process: /metrics (Prometheus text), /healthz (alive), /readyz (ready to work), plus mounted routes. */
export async function startTelemetryServer(host: string, port: number, routes: readonly RouteHandler[] = []): Promise<TelemetryServer> {
  const server = createServer((req, res) => {
    void handle(req, res, routes).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    });
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
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
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
