import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { CrowdpulseError } from '../errors.js';
import type { SentimentQuery } from '../query/sentiment-query.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { registry as sharedRegistry } from '../telemetry/metrics.js';
import { healthFromSamples, type SampleSource } from './health.js';
import type { RuleView } from './rules-file.js';
import { parsePrometheusText, samplesOfRegistry, type Sample } from './samples.js';
import { parseFilters } from '../query/filters.js';
import { sentimentView } from './sentiment-view.js';
import { staticFile } from './static-files.js';
import { StoreNotReadyError } from './lazy-query.js';
import { logger } from '../telemetry/log.js';

const log = logger('dashboard');

export interface DashboardExtras {
  /** The rules the stream follows, when this process knows them. */
  readonly rules?: () => Promise<readonly RuleView[]>;
  /** This process's metrics for pipeline health (default: the shared registry); null = none. */
  readonly registry?: Registry | null;
  /** Other roles' /metrics URLs whose samples are added to the health panel. */
  readonly metricsUrls?: readonly string[];
  /** Bearer token sent to those URLs (the roles' HTTP access token, src/telemetry/http-access.ts). */
  readonly metricsToken?: string;
  readonly title?: string;
  /** How often the page polls, seconds. */
  readonly refreshSeconds?: number;
}

export const DASHBOARD_PATH = '/dashboard/';
const API = '/dashboard/api/';
const METRICS_TIMEOUT_MS = 2000;

class BadRequest extends CrowdpulseError<'CP_BAD_REQUEST'> {
  constructor(message: string) {
    super('CP_BAD_REQUEST', message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new BadRequest(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

async function remoteSamples(url: string, token: string | undefined): Promise<{ source: SampleSource; samples: Sample[] }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    if (!res.ok) return { source: { name: url, ok: false, error: `HTTP ${res.status}` }, samples: [] };
    const parsed = parsePrometheusText(await res.text());
    return { source: { name: url, ok: true }, samples: parsed.samples };
  } catch (e) {
    return { source: { name: url, ok: false, error: (e as Error).message }, samples: [] };
  }
}

/**
 * The dashboard as routes for a role's HTTP port: the page under /dashboard/ and its JSON API
 * under /dashboard/api/ (sentiment, health, rules, config). Reads sentiment only through
 * `query`, so it works on every store that implements SentimentQuery.
 */
export function dashboardRoutes(query: SentimentQuery, extras: DashboardExtras = {}): RouteHandler[] {
  const localRegistry = extras.registry === undefined ? sharedRegistry : extras.registry;
  const metricsUrls = extras.metricsUrls ?? [];

  const api = async (name: string, params: URLSearchParams, res: ServerResponse): Promise<boolean> => {
    switch (name) {
      case 'config':
        sendJson(res, 200, { title: extras.title ?? 'crowdpulse', refreshSeconds: extras.refreshSeconds ?? 5, rules: extras.rules !== undefined });
        return true;
      case 'sentiment': {
        const windowRaw = params.get('window') ?? '3600';
        const window = windowRaw === 'all' ? ('all' as const) : intParam(params, 'window', 3600, 1, 366 * 86400);
        const topics = (params.get('topics') ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== '');
        const filters = parseFilters({
          langs: params.get('langs') ?? undefined,
          amplification: params.get('amplification') ?? undefined,
          authorCap: params.get('authorCap') ?? undefined,
          unsupportedLanguages: params.get('unsupportedLanguages') ?? undefined,
        });
        if (!filters.ok) throw new BadRequest(filters.error);
        const atRaw = params.get('at');
        const at = atRaw === null || atRaw === '' || atRaw === 'now' ? Date.now() : Date.parse(atRaw);
        if (!Number.isFinite(at)) throw new BadRequest(`at must be an ISO 8601 time or now, got "${atRaw?.slice(0, 40)}"`);
        const view = await sentimentView(query, {
          ...filters.value,
          at,
          window,
          points: intParam(params, 'points', 60, 1, 1000),
          top: intParam(params, 'top', 8, 1, 50),
          topics,
        });
        sendJson(res, 200, view);
        return true;
      }
      case 'health': {
        const parts = await Promise.all([
          ...(localRegistry ? [samplesOfRegistry(localRegistry).then((samples) => ({ source: { name: 'this process', ok: true }, samples }))] : []),
          ...metricsUrls.map((url) => remoteSamples(url, extras.metricsToken)),
        ]);
        sendJson(res, 200, healthFromSamples(parts));
        return true;
      }
      case 'rules':
        if (!extras.rules) {
          sendJson(res, 200, { available: false, rules: [] });
          return true;
        }
        sendJson(res, 200, { available: true, rules: await extras.rules() });
        return true;
      default:
        return false;
    }
  };

  const handler: RouteHandler = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const path = url.pathname;
    if (path === '/' || path === '/dashboard') {
      res.writeHead(302, { location: DASHBOARD_PATH });
      res.end();
      return true;
    }
    if (path === DASHBOARD_PATH || path.startsWith('/dashboard/static/')) {
      const file = await staticFile(path === DASHBOARD_PATH ? 'index.html' : path.slice('/dashboard/static/'.length));
      if (!file) return false;
      res.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    }
    if (path.startsWith(API)) {
      try {
        if (await api(path.slice(API.length), url.searchParams, res)) return true;
        sendJson(res, 404, { error: `no such endpoint: ${path}` });
      } catch (e) {
        if (e instanceof BadRequest) {
          sendJson(res, 400, { error: e.message, code: e.code });
        } else {
          // The details (paths, server messages) go to the log, not to whoever asked.
          log.warn('dashboard API could not read the store', { path, error: (e as Error).message });
          if (e instanceof StoreNotReadyError) sendJson(res, 503, { error: 'store not readable yet (it appears with the first stored post)', code: e.code });
          else sendJson(res, 503, { error: 'the store could not be read', code: 'CP_STORE_UNAVAILABLE' });
        }
      }
      return true;
    }
    return false;
  };
  return [handler];
}
