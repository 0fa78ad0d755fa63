/**
 * #11: faults around `crowdpulse run` — a bad dead-letter path, SIGTERM while InfluxDB is down, and
 * a store that cannot be read back for the summary. Each ends promptly with one line or a summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, tempDir } from '../helpers.js';
import { testDatabase } from '../influxdb/server.js';
import { freePort } from '../ops/support.js';

const execFileAsync = promisify(execFile);
const CLI = join(ROOT, 'bin/crowdpulse.js');
const FIXTURES = join(ROOT, 'bench/fixtures/posts.ndjson.gz');
const dir = tempDir('faults');

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function crowdpulse(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Exit> {
  try {
    const r = await execFileAsync(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, CROWDPULSE_LOG_PROGRESS: 'off', ...env },
      maxBuffer: 64 << 20,
      timeout: timeoutMs,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const failed = e as { code: number | null; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.trim() !== '');

test('#11.6 a dead-letter path that is a directory, or lies under a file, stops run at once with one line', async () => {
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  for (const path of [folder, '/dev/null/sub/x']) {
    const started = Date.now();
    const r = await crowdpulse(
      ['run', '--input', FIXTURES, '--db', join(dir, 'x.db'), '--port', '0', '--limit', '10'],
      { CROWDPULSE_DEAD_LETTER_PATH: path },
      60_000,
    );
    assert.equal(r.code, 1, `${path}: ${r.stderr}`);
    assert.ok(Date.now() - started < 30_000, 'exits promptly (it used to hang with the HTTP port open)');
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
    assert.match(lines[0] ?? '', /deadLetter\.path/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('#11.5 SIGTERM while InfluxDB is down: run stops within its drain bound and prints its summary', async () => {
  const downPort = await freePort();
  const child = spawn(process.execPath, [CLI, 'run', '--input', FIXTURES, '--sink', 'influxdb', '--port', '0', '--progress', 'off'], {
    cwd: ROOT,
    env: {
      ...process.env,
      CROWDPULSE_INFLUXDB_URL: `http://127.0.0.1:${downPort}`,
      CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead-down.ndjson'),
      CROWDPULSE_PIPELINE_DRAIN_TIMEOUT_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Wait until the sink is retrying against the closed port.
  const deadline = Date.now() + 60_000;
  while (!/retrying/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.match(stderr, /retrying/, 'the sink retries while InfluxDB is down');
  const signalled = Date.now();
  child.kill('SIGTERM');
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(guard);
  const took = Date.now() - signalled;
  assert.ok(took < 20_000, `stopped ${took} ms after SIGTERM (drain bound 2000 ms)`);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /crowdpulse run summary/);
  assert.match(stdout, /before the drain finished/);
  assert.match(stdout, /not finished\s+\d+/);
  assert.match(stdout, /per-topic table unavailable/);
});

test('#11.13 and #11.8 a missing InfluxDB database: every post dead-lettered, run exits 0 with a summary that counts each line once and says why there is no table', async (t) => {
  const influx = await testDatabase(t);
  if (!influx) return;
  await influx.drop();
  const input = join(dir, 'twenty.ndjson');
  writeFileSync(
    input,
    Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({
        data: { id: String(1000 + i), text: `post ${i}`, created_at: '2026-11-03T06:00:00.000Z' },
        matching_rules: [
          { id: '1', tag: 'a' },
          { id: '2', tag: 'b' },
        ],
      }),
    ).join('\n') + '\n',
  );
  const r = await crowdpulse(['run', '--input', input, '--sink', 'influxdb', '--port', '0'], {
    CROWDPULSE_INFLUXDB_URL: influx.url,
    CROWDPULSE_INFLUXDB_BUCKET: `${influx.db}_missing/autogen`,
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead-missing.ndjson'),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /lines read\s+20\n/);
  assert.match(r.stdout, /posts stored\s+0\n/);
  assert.match(r.stdout, /dead letters\s+20 \(sink_rejected: 20\)/);
  assert.match(r.stdout, /per-topic table unavailable: the store could not be read back \(.+\)/);
});

test('#11.6 a store path that cannot be opened (a directory, a path under a file) is one line naming sqlite.path', async () => {
  const folder = join(dir, 'db-folder');
  mkdirSync(folder);
  for (const db of [folder, '/dev/null/x.db']) {
    const r = await crowdpulse(
      ['run', '--input', FIXTURES, '--db', db, '--port', '0', '--limit', '10'],
      { CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead-db.ndjson') },
      60_000,
    );
    assert.equal(r.code, 1, r.stderr);
    const errors = errorLines(r.stderr).filter((l) => / ERROR /.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0] ?? '', /sqlite\.path/);
  }
});
