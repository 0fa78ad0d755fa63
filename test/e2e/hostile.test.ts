/**
 * #11: the hostile corpus (test/fixtures/hostile-corpus.ts) through the embedded topology, on
 * SQLite and on InfluxDB. Each run exits 0 with its summary, and the accounting holds: every line
 * is stored or dead-lettered exactly once. The Kafka roles run the same corpus in test/kafka.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ROOT, tempDir } from '../helpers.js';
import { checkAccounting, hostileCorpus, rowKey, writeCorpus } from '../fixtures/hostile-corpus.js';
import { testDatabase } from '../influxdb/server.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'bin/crowdpulse.js');
const dir = tempDir('hostile');
const corpus = hostileCorpus();
const input = join(dir, 'hostile.ndjson');
writeCorpus(input, corpus);

function crowdpulse(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, CROWDPULSE_LOG_PROGRESS: 'off', ...env },
    maxBuffer: 64 << 20,
    timeout: 300_000,
  });
}

/** Dead letters of the file sink, by the corpus line they came from (origin "path:line"). */
export function fileLetters(path: string, source: string): { line: number; code: string; bytes: number; truncated?: { length: number; sha256: string } }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((text) => {
      const l = JSON.parse(text) as { origin: string; code: string; original_base64: string; truncated?: { length: number; sha256: string } };
      assert.ok(l.origin.startsWith(`${source}:`), `origin ${l.origin}`);
      return {
        line: Number(l.origin.slice(source.length + 1)),
        code: l.code,
        bytes: Buffer.from(l.original_base64, 'base64').length,
        ...(l.truncated ? { truncated: l.truncated } : {}),
      };
    });
}

function sqliteRows(db: string): Set<string> {
  const conn = new Database(db, { readonly: true });
  try {
    return new Set(
      (conn.prepare('SELECT post_id, topic FROM post_sentiment').all() as { post_id: string; topic: string }[]).map((r) => rowKey(r.post_id, r.topic)),
    );
  } finally {
    conn.close();
  }
}

const deadCount = corpus.filter((l) => l.expect.kind === 'dead').length;

test('#11 hostile corpus, embedded with SQLite: every line stored or dead-lettered exactly once; #11.12 a rerun adds no row and no dead letter', async () => {
  const db = join(dir, 'hostile.db');
  const deadLetters = join(dir, 'dead-sqlite.ndjson');
  const env = { CROWDPULSE_DEAD_LETTER_PATH: deadLetters };
  const first = await crowdpulse(['run', '--input', input, '--db', db, '--port', '0'], env);
  assert.match(first.stdout, new RegExp(`lines read\\s+${corpus.length}\\n`));
  assert.match(first.stdout, new RegExp(`dead letters\\s+${deadCount} `));
  assert.deepEqual(checkAccounting(corpus, sqliteRows(db), fileLetters(deadLetters, input)), []);
  // Oversized messages keep a truncated copy, their length and hash, never their whole body.
  const oversized = fileLetters(deadLetters, input).filter((l) => l.code === 'oversized');
  assert.equal(oversized.length, 3);
  for (const l of oversized) {
    assert.ok(l.bytes <= 4096, `dead letter keeps ${l.bytes} bytes`);
    assert.ok(l.truncated && l.truncated.length > 1024 * 1024 && /^[0-9a-f]{64}$/.test(l.truncated.sha256));
  }
  // SQLite holds valid UTF-8 only: Python's sqlite3 (and any strict reader) can read every row.
  const conn = new Database(db, { readonly: true });
  const stored = conn.prepare('SELECT CAST(topic AS BLOB) AS topic, CAST(post_id AS BLOB) AS id FROM post_sentiment').all() as { topic: Buffer; id: Buffer }[];
  conn.close();
  const strict = new TextDecoder('utf-8', { fatal: true });
  const invalid = stored.filter((r) => {
    try {
      strict.decode(r.topic);
      strict.decode(r.id);
      return false;
    } catch {
      return true;
    }
  });
  assert.equal(invalid.length, 0, `${invalid.length} rows hold invalid UTF-8`);

  // #11.12: a full rerun stores the same rows and adds no dead letter.
  const rowsBefore = sqliteRows(db);
  const second = await crowdpulse(['run', '--input', input, '--db', db, '--port', '0'], env);
  assert.match(second.stdout, new RegExp(`dead letters\\s+${deadCount} `));
  assert.deepEqual(sqliteRows(db), rowsBefore);
  assert.equal(fileLetters(deadLetters, input).length, deadCount);
});

test('#11 hostile corpus, embedded with InfluxDB: the same accounting, and the summary counts each line once (#11.8)', async (t) => {
  const influx = await testDatabase(t);
  if (!influx) return;
  try {
    const deadLetters = join(dir, 'dead-influx.ndjson');
    const r = await crowdpulse(['run', '--input', input, '--sink', 'influxdb', '--port', '0'], {
      CROWDPULSE_DEAD_LETTER_PATH: deadLetters,
      CROWDPULSE_INFLUXDB_URL: influx.url,
      CROWDPULSE_INFLUXDB_BUCKET: influx.bucket,
    });
    assert.match(r.stdout, new RegExp(`lines read\\s+${corpus.length}\\n`));
    const result = await influx.influxql('SELECT "post_id", "topic" FROM "post_sentiment"');
    const series = result.results[0]?.series?.[0];
    const postIdAt = series?.columns.indexOf('post_id') ?? -1;
    const topicAt = series?.columns.indexOf('topic') ?? -1;
    const rows = new Set((series?.values ?? []).map((v) => rowKey(String(v[postIdAt]), String(v[topicAt]))));
    assert.deepEqual(checkAccounting(corpus, rows, fileLetters(deadLetters, input)), []);
  } finally {
    await influx.drop();
  }
});
