/**
 * Harness for the role tests: each role a real `crowdpulse <role>` process (bin/crowdpulse.js)
 * with its own log file and HTTP port, configured by CROWDPULSE_* environment variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { KafkaConfig } from '../../src/config/sections/kafka.js';
import { postFromStreamBytes } from '../../src/contract/index.js';
import { ROOT } from '../helpers.js';
import { kafkaEnv } from './broker.js';

const CLI = join(ROOT, 'bin/crowdpulse.js');
export const FIXTURE = join(ROOT, 'bench/fixtures/posts.ndjson.gz');

export interface RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  /** Base URL of its /metrics /readyz port, once it listens. */
  readonly url: Promise<string>;
  /** Exit code (or signal name) once it exited. */
  readonly exited: Promise<number | string>;
  /** Everything it wrote to stdout so far (the role's summary line; logs go to stderr). */
  stdout(): string;
  kill(signal: NodeJS.Signals): void;
}

/** Environment shared by the roles of one test: Kafka topics/groups, the SQLite file, a small model pool. */
export function roleEnv(config: KafkaConfig, db: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...kafkaEnv(config),
    CROWDPULSE_SQLITE_PATH: db,
    CROWDPULSE_MODEL_NAME: 'fast',
    CROWDPULSE_MODEL_THREADS: '1',
    CROWDPULSE_HTTP_PORT: '0',
    CROWDPULSE_LOG_PROGRESS: 'off',
    ...extra,
  };
}

export function startRole(name: string, args: readonly string[], env: Record<string, string>, dir: string): RoleProcess {
  const log = join(dir, `${name}.log`);
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let resolveUrl: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  let seen = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    out.write(chunk);
    seen += chunk.toString('utf8');
    const m = /health and readiness on (http:\/\/\S+)/.exec(seen);
    if (m?.[1]) resolveUrl(m[1]);
    if (seen.length > 1 << 16) seen = seen.slice(-4096);
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out.write(chunk);
    stdout += chunk.toString('utf8');
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      out.end();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return { name, child, log, url, exited, stdout: () => stdout, kill: (signal) => child.kill(signal) };
}

/** The (post id, topic) pairs the first `limit` fixture lines should produce, as "id\ttopic" strings. */
export function expectedPairs(limit: number): Set<string> {
  return expectedPosts(limit).pairs;
}

/** The posts the first `limit` fixture lines should produce (one raw message each) and their (post id, topic) pairs. */
export function expectedPosts(limit: number): { posts: number; pairs: Set<string> } {
  let posts = 0;
  // Bytes, not a decoded string: a line of invalid UTF-8 must be refused here as ingest refuses it.
  const bytes = gunzipSync(readFileSync(FIXTURE));
  const pairs = new Set<string>();
  for (let start = 0, n = 0; start < bytes.length && n < limit; n++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const line = bytes.subarray(start, end);
    start = end + 1;
    // Ingested now: created_at is checked against the ingestion time (at most 24 h after it).
    const r = postFromStreamBytes(line, Date.now());
    if (!r.ok) continue;
    posts++;
    for (const t of r.value.topics) pairs.add(`${r.value.id}\t${t}`);
  }
  return { posts, pairs };
}

/** Stored (post id, topic) rows, with how many times each occurs (the primary key makes >1 impossible; checked anyway). */
export function storedRows(db: string): { pairs: Set<string>; rows: number } {
  let conn: Database.Database | undefined;
  try {
    conn = new Database(db, { readonly: true, fileMustExist: true });
    const rows = conn.prepare('SELECT post_id, topic FROM post_sentiment').all() as { post_id: string; topic: string }[];
    return { pairs: new Set(rows.map((r) => `${r.post_id}\t${r.topic}`)), rows: rows.length };
  } catch {
    return { pairs: new Set(), rows: 0 };
  } finally {
    conn?.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until `predicate` holds, or fails with `what` after `timeoutMs`; `explain` adds what the
 * failure message should carry (e.g. the roles' Kafka lines and metrics, see logTails and metricsSnapshot).
 */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
  explain?: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${await explain()}` : ''}`);
}

/** A role's last `lines` log lines that `keep` selects, headed by the role's name, exit and what they are. */
function tail(r: RoleProcess, what: string, keep: (line: string) => boolean, lines: number): string {
  let text: string;
  try {
    text = readFileSync(r.log, 'utf8');
  } catch (e) {
    return `${r.name}: no log (${(e as Error).message})`;
  }
  const kept = text.split('\n').filter(keep);
  const exit = r.child.exitCode ?? r.child.signalCode ?? 'running';
  return [`${r.name} (${exit}; ${r.log}): last ${Math.min(lines, kept.length)} of ${kept.length} ${what}`, ...kept.slice(-lines)].join('\n  ');
}

/**
 * Each role's last notable log lines, for a failure message (CI keeps no temp files): warnings and
 * errors, and the Kafka clients' state changes (broker reachable again, group joined again,
 * partitions assigned and revoked), which are INFO but say which client did not recover.
 */
export function logTails(roles: readonly RoleProcess[], lines = 12): string {
  const notable = (l: string): boolean => / (WARN|ERROR|FATAL) /.test(l) || / \[kafka\] /.test(l);
  return roles.map((r) => tail(r, 'warnings, errors and Kafka state changes', notable, lines)).join('\n');
}

/** Each role's last librdkafka lines (roles started with CROWDPULSE_KAFKA_DEBUG), for a failure message. */
export function librdkafkaTails(roles: readonly RoleProcess[], lines = 25): string {
  return roles.map((r) => tail(r, 'librdkafka lines', (l) => / \[kafka\.librdkafka\] /.test(l), lines)).join('\n');
}

/** Families of a role's /metrics that show where a Kafka pipeline stands: consumed, produced, in flight, paused, assigned, lag, stored. */
const SNAPSHOT_METRICS =
  /^crowdpulse_(kafka_(consumed|produced|in_flight|paused|assigned|consumer_lag|delivery_errors|commits|rebalances)|stage_(items|errors))/;

/** Each running role's Kafka and stage metrics (a line each), for a failure message. */
export async function metricsSnapshot(roles: readonly RoleProcess[]): Promise<string> {
  const parts = await Promise.all(
    roles.map(async (r) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return `${r.name}: exited`;
      try {
        const url = await Promise.race([r.url, sleep(1000).then(() => undefined)]);
        if (!url) return `${r.name}: no metrics address yet`;
        const body = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        const wanted = body.split('\n').filter((l) => SNAPSHOT_METRICS.test(l));
        return [`${r.name} metrics:`, ...wanted].join('\n  ');
      } catch (e) {
        return `${r.name}: metrics unreadable (${(e as Error).message})`;
      }
    }),
  );
  return parts.join('\n');
}

/** Waits until the store holds every expected pair; then checks it holds nothing else and no row twice. */
export async function assertExactlyStored(db: string, expected: Set<string>, timeoutMs: number, explain?: () => string | Promise<string>): Promise<void> {
  await waitFor(
    `${expected.size} stored rows in ${db}`,
    () => storedRows(db).rows >= expected.size,
    timeoutMs,
    500,
    async () => [`${storedRows(db).rows} rows stored at the deadline`, (await explain?.()) ?? ''].join('\n'),
  );
  // A short settle: late duplicates (redeliveries) would show up as extra rows if the sink were not idempotent.
  await sleep(1000);
  const { pairs, rows } = storedRows(db);
  const missing = [...expected].filter((p) => !pairs.has(p));
  const extra = [...pairs].filter((p) => !expected.has(p));
  if (rows !== pairs.size || missing.length > 0 || extra.length > 0) {
    throw new Error(
      `store differs from input: ${rows} rows, ${pairs.size} distinct, ${missing.length} missing (e.g. ${missing.slice(0, 3).join(', ')}), ${extra.length} unexpected`,
    );
  }
}

/** A gauge's value for a label match, from a role's /metrics. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const body = await (await fetch(`${url}/metrics`)).text();
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      (m[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv): [string, string] => {
          const [k = '', v = ''] = kv.split('=');
          return [k, v.replace(/^"|"$/g, '')];
        }),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Stops every role still running (SIGKILL after a grace period), for test cleanup. */
export async function stopAll(roles: readonly RoleProcess[], graceMs = 20000): Promise<void> {
  await Promise.all(
    roles.map(async (r) => {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return;
      r.kill('SIGTERM');
      const timer = setTimeout(() => r.kill('SIGKILL'), graceMs);
      await r.exited;
      clearTimeout(timer);
    }),
  );
}
