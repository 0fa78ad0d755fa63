/**
 * Test access to a real InfluxDB started by the project's script (scripts/influxdb.sh): 1.8 by
 * default, 2.7 with INFLUXDB_VERSION=2.7 (the same variable the script reads). Each test gets its
 * own database, dropped at the end: on 1.8 through InfluxQL, on 2.7 a bucket (/api/v2/buckets) with
 * a DBRP mapping (/api/v2/dbrps), so that the tests' InfluxQL reads go through 2.x's v1-compatible
 * /query. In CI (CI=true) a server that cannot be reached or started fails the test; on a dev
 * machine the test skips and says how to get one.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { influxdbSection, type InfluxdbConfig } from '../../src/config/sections/influxdb.js';
import type { ScoredPost } from '../../src/contract/index.js';
import { ROOT } from '../helpers.js';

const version = process.env.INFLUXDB_VERSION ?? '1.8';
if (version !== '1.8' && version !== '2.7') throw new Error(`INFLUXDB_VERSION must be 1.8 or 2.7, not "${version}"`);
/** The InfluxDB the tests run against (INFLUXDB_VERSION, as for scripts/influxdb.sh). */
export const INFLUX_VERSION: '1.8' | '2.7' = version;
export const IS_INFLUX_V2 = INFLUX_VERSION === '2.7';
/** The default server of the version: the script's default port (18086 for 1.8, 18087 for 2.7). */
const DEFAULT_URL = IS_INFLUX_V2 ? 'http://127.0.0.1:18087' : 'http://127.0.0.1:18086';
export const INFLUX_URL = process.env.CROWDPULSE_INFLUXDB_URL ?? DEFAULT_URL;
/** 2.7: the organisation and operator token the script sets up (its INFLUXDB_ORG / INFLUXDB_TOKEN defaults). Unused on 1.8. */
export const INFLUX_ORG = process.env.CROWDPULSE_INFLUXDB_ORG ?? process.env.INFLUXDB_ORG ?? 'crowdpulse';
export const INFLUX_TOKEN = process.env.CROWDPULSE_INFLUXDB_TOKEN ?? process.env.INFLUXDB_TOKEN ?? 'crowdpulse-test-token';

/** The operator token's header on 2.7 (every API needs it there); nothing on 1.8 (auth off). */
const authHeaders = (): Record<string, string> => (IS_INFLUX_V2 ? { authorization: `Token ${INFLUX_TOKEN}` } : {});

export async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { status?: string }).status === 'pass';
  } catch {
    return false;
  }
}

/** Runs scripts/influxdb.sh with extra environment; returns its exit status and output. */
export function influxScript(command: 'up' | 'down' | 'status' | 'reset', env: Record<string, string> = {}): { status: number; output: string } {
  const r = spawnSync('bash', ['scripts/influxdb.sh', command], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 900_000 });
  return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * The service directory of a test's own instance (scripts/influxdb.sh INFLUXDB_SERVICE_DIR), one per
 * version: 1.8 and 2.7 keep different files.
 */
export const testServiceDir = (name: string): string => `${ROOT}.services/${name}${IS_INFLUX_V2 ? '-2.7' : ''}`;

/** The client settings for database `db` on the server at `url`: 1.8 bucket "db/autogen", org "-"; 2.7 bucket `db`, org and token. */
export function clientConfig(url: string, db: string, overrides: Partial<InfluxdbConfig> = {}): InfluxdbConfig {
  const target = IS_INFLUX_V2 ? { url, bucket: db, org: INFLUX_ORG, token: INFLUX_TOKEN } : { url, bucket: `${db}/autogen` };
  return { ...influxdbSection.parse(target), ...overrides };
}

export interface TestDatabase {
  readonly url: string;
  readonly db: string;
  /** The v2 API's bucket: "db/autogen" on 1.8, the bucket's name on 2.7. */
  readonly bucket: string;
  /** The same server's bucket for a database that does not exist. */
  readonly missingBucket: string;
  config(overrides?: Partial<InfluxdbConfig>): InfluxdbConfig;
  /** CROWDPULSE_INFLUXDB_* for a crowdpulse process writing to this database. */
  env(): Record<string, string>;
  /** Line protocol straight to /api/v2/write (no client in between). */
  write(lines: string, precision: 'ns' | 'ms'): Promise<Response>;
  /** InfluxQL on this database; times as integers in `epoch` units (ns exceed JSON's exact integers). */
  influxql(q: string, epoch?: 'ns' | 'u' | 'ms'): Promise<InfluxQLResult>;
  drop(): Promise<void>;
}

export interface InfluxQLSeries {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}
export interface InfluxQLResult {
  readonly results: { readonly series?: InfluxQLSeries[]; readonly error?: string }[];
}

/** InfluxQL on /query (2.7: its v1-compatible endpoint, through the DBRP mapping of `db`). */
export async function influxql(url: string, q: string, db?: string, epoch = 'ns'): Promise<InfluxQLResult> {
  const body = new URLSearchParams({ q, epoch, ...(db ? { db } : {}) });
  const res = await fetch(`${url}/query`, { method: 'POST', body, headers: authHeaders() });
  const json = (await res.json()) as InfluxQLResult & { error?: string; message?: string };
  const error = json.error ?? json.message ?? json.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxQL "${q.slice(0, 200)}": ${error ?? res.status}`);
  return json;
}

/** One call of 2.7's v2 API with the operator token; the parsed answer, or an error with the server's message. */
async function v2api<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function orgId(url: string): Promise<string> {
  const { orgs } = await v2api<{ orgs: { id: string }[] }>(url, 'GET', `/api/v2/orgs?org=${encodeURIComponent(INFLUX_ORG)}`);
  const id = orgs[0]?.id;
  if (!id) throw new Error(`no organisation ${INFLUX_ORG} on ${url}`);
  return id;
}

/**
 * Database `db` created empty: 1.8 DROP + CREATE DATABASE; 2.7 the bucket `db` deleted if present,
 * created again, and mapped to database `db`, retention policy autogen (the default), for InfluxQL.
 */
export async function createDatabase(url: string, db: string): Promise<void> {
  if (!IS_INFLUX_V2) {
    await influxql(url, `DROP DATABASE "${db}"`);
    await influxql(url, `CREATE DATABASE "${db}"`);
    return;
  }
  await dropDatabase(url, db);
  const orgID = await orgId(url);
  const bucket = await v2api<{ id: string }>(url, 'POST', '/api/v2/buckets', { orgID, name: db, retentionRules: [] });
  await v2api(url, 'POST', '/api/v2/dbrps', { orgID, bucketID: bucket.id, database: db, retention_policy: 'autogen', default: true });
}

/** Database `db` deleted (2.7: its bucket and DBRP mappings); no error if absent. */
export async function dropDatabase(url: string, db: string): Promise<void> {
  if (!IS_INFLUX_V2) {
    await influxql(url, `DROP DATABASE "${db}"`);
    return;
  }
  const orgID = await orgId(url);
  const { content } = await v2api<{ content: { id: string }[] }>(url, 'GET', `/api/v2/dbrps?orgID=${orgID}&db=${encodeURIComponent(db)}`);
  for (const m of content) await v2api(url, 'DELETE', `/api/v2/dbrps/${m.id}?orgID=${orgID}`);
  // 2.7 answers a bucket looked up by name that does not exist with 404.
  const found = await v2api<{ buckets: { id: string }[] }>(url, 'GET', `/api/v2/buckets?orgID=${orgID}&name=${encodeURIComponent(db)}`).catch((e: unknown) => {
    if (e instanceof Error && e.message.includes('HTTP 404')) return { buckets: [] };
    throw e;
  });
  for (const b of found.buckets) await v2api(url, 'DELETE', `/api/v2/buckets/${b.id}`);
}

/** 2.7: a new API token that may read and write bucket `db` only (made with the operator token). */
export async function bucketToken(url: string, db: string): Promise<string> {
  const orgID = await orgId(url);
  const { buckets } = await v2api<{ buckets: { id: string }[] }>(url, 'GET', `/api/v2/buckets?orgID=${orgID}&name=${encodeURIComponent(db)}`);
  const id = buckets[0]?.id;
  if (!id) throw new Error(`no bucket ${db} on ${url}`);
  const resource = { type: 'buckets', id, orgID };
  const auth = await v2api<{ token: string }>(url, 'POST', '/api/v2/authorizations', {
    orgID,
    description: `crowdpulse test: read/write ${db}`,
    permissions: [
      { action: 'read', resource },
      { action: 'write', resource },
    ],
  });
  return auth.token;
}

/** A server at `url` (starting the default one through the script if needed), or undefined after t.skip(). */
export async function requireInflux(t: TestContext, url = INFLUX_URL): Promise<string | undefined> {
  if (await healthy(url)) return url;
  if (url === DEFAULT_URL) {
    const r = influxScript('up');
    if (r.status === 0 && (await healthy(url))) return url;
    if (process.env.CI === 'true') throw new Error(`InfluxDB ${INFLUX_VERSION} could not be started by scripts/influxdb.sh up:\n${r.output}`);
  } else if (process.env.CI === 'true') {
    throw new Error(`InfluxDB at ${url} is not healthy`);
  }
  const build = IS_INFLUX_V2 ? 'builds InfluxDB 2.7 with its Rust libflux once, ~15 min' : 'builds InfluxDB 1.8.10 once, ~2 min';
  t.skip(`no InfluxDB ${INFLUX_VERSION} at ${url}: run \`INFLUXDB_VERSION=${INFLUX_VERSION} bash scripts/influxdb.sh up\` (${build})`);
  return undefined;
}

/** A fresh database on the server for one test. */
export async function testDatabase(t: TestContext, url = INFLUX_URL): Promise<TestDatabase | undefined> {
  const base = await requireInflux(t, url);
  if (base === undefined) return undefined;
  const db = `cp_test_${randomBytes(4).toString('hex')}`;
  await createDatabase(base, db);
  const config = (overrides: Partial<InfluxdbConfig> = {}): InfluxdbConfig =>
    clientConfig(base, db, { retryInitialMs: 50, retryMaxDelayMs: 1000, ...overrides });
  const { bucket, org, token } = config();
  return {
    url: base,
    db,
    bucket,
    missingBucket: clientConfig(base, `${db}_missing`).bucket,
    config,
    env: () => ({
      CROWDPULSE_INFLUXDB_URL: base,
      CROWDPULSE_INFLUXDB_BUCKET: bucket,
      ...(IS_INFLUX_V2 ? { CROWDPULSE_INFLUXDB_ORG: org, CROWDPULSE_INFLUXDB_TOKEN: token } : {}),
    }),
    write: (lines, precision) =>
      fetch(`${base}/api/v2/write?${new URLSearchParams({ org, bucket, precision }).toString()}`, { method: 'POST', body: lines, headers: authHeaders() }),
    influxql: (q, epoch) => influxql(base, q, db, epoch),
    drop: async () => {
      await dropDatabase(base, db).catch(() => undefined);
    },
  };
}

const SNOWFLAKE_EPOCH = 1_288_834_974_657n;

/** A scored post shaped like the analyze stage's output, with an X-style snowflake id. */
export function scoredPost(createdMs: number, low22: number, overrides: Partial<ScoredPost> = {}): ScoredPost {
  const id = (((BigInt(createdMs) - SNOWFLAKE_EPOCH) << 22n) | BigInt(low22)).toString();
  const neg = ((low22 * 7919) % 1000) / 2000;
  const pos = ((low22 * 104729) % 1000) / 2000;
  const neu = Math.max(0, 1 - neg - pos);
  const label = neg >= neu && neg >= pos ? 'negative' : neu >= pos ? 'neutral' : 'positive';
  return {
    id,
    createdAt: new Date(createdMs).toISOString(),
    topics: ['markets'],
    lang: 'en',
    label,
    probs: { neg, neu, pos },
    score: Math.max(-1, Math.min(1, pos - neg)),
    model: 'test-model@1',
    flags: [],
    ingestedAt: createdMs + 5,
    analyzedAt: createdMs + 9,
    ...overrides,
  };
}
