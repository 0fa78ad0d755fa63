/**
 * Test access to a real InfluxDB started by the project's script (scripts/influxdb.sh). Each test
 * file gets its own database, dropped at the end. In CI (CI=true) a server that cannot be reached
 * or started fails the test; on a dev machine the test skips and says how to get one.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { influxdbSection, type InfluxdbConfig } from '../../src/config/sections/influxdb.js';
import type { ScoredPost } from '../../src/contract/index.js';
import { ROOT } from '../helpers.js';

export const INFLUX_URL = process.env.CROWDPULSE_INFLUXDB_URL ?? 'http://127.0.0.1:18086';

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

export interface TestDatabase {
  readonly url: string;
  readonly db: string;
  readonly bucket: string;
  config(overrides?: Partial<InfluxdbConfig>): InfluxdbConfig;
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

export async function influxql(url: string, q: string, db?: string, epoch = 'ns'): Promise<InfluxQLResult> {
  const body = new URLSearchParams({ q, epoch, ...(db ? { db } : {}) });
  const res = await fetch(`${url}/query`, { method: 'POST', body });
  const json = (await res.json()) as InfluxQLResult & { error?: string };
  const error = json.error ?? json.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxQL "${q.slice(0, 200)}": ${error ?? res.status}`);
  return json;
}

/** A server at `url` (starting the default one through the script if needed), or undefined after t.skip(). */
export async function requireInflux(t: TestContext, url = INFLUX_URL): Promise<string | undefined> {
  if (await healthy(url)) return url;
  if (url === 'http://127.0.0.1:18086') {
    const r = influxScript('up');
    if (r.status === 0 && (await healthy(url))) return url;
    if (process.env.CI === 'true') throw new Error(`InfluxDB could not be started by scripts/influxdb.sh up:\n${r.output}`);
  } else if (process.env.CI === 'true') {
    throw new Error(`InfluxDB at ${url} is not healthy`);
  }
  t.skip(`no InfluxDB at ${url}: run \`bash scripts/influxdb.sh up\` (builds InfluxDB 1.8.10 once, ~2 min)`);
  return undefined;
}

/** A fresh database on the server for one test. */
export async function testDatabase(t: TestContext, url = INFLUX_URL): Promise<TestDatabase | undefined> {
  const base = await requireInflux(t, url);
  if (base === undefined) return undefined;
  const db = `cp_test_${randomBytes(4).toString('hex')}`;
  await influxql(base, `CREATE DATABASE "${db}"`);
  return {
    url: base,
    db,
    bucket: `${db}/autogen`,
    config: (overrides = {}) => ({ ...influxdbSection.parse({ url: base, bucket: `${db}/autogen` }), retryInitialMs: 50, retryMaxDelayMs: 1000, ...overrides }),
    influxql: (q, epoch) => influxql(base, q, db, epoch),
    drop: async () => {
      await influxql(base, `DROP DATABASE "${db}"`).catch(() => undefined);
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
