/**
 * #13.4 end to end: `crowdpulse run --source x` against the emulator with dropped connections
 * records coverage events in the embedded store, and `crowdpulse query` reports, per bucket, how
 * much of it the stream covered (empty buckets of the gap included).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { syncRules } from '../../src/x/rules.js';
import { ROOT, tempDir } from '../helpers.js';
import type { XEmulator } from '../../src/emulator/server.js';
import { clientFor, startEmulator, TOKEN } from '../x/helpers.js';

const exec = promisify(execFile);
const CLI = join(ROOT, 'bin/crowdpulse.js');

/** The emulator with two tagged rules, and the environment of a `crowdpulse run --source x` against it. */
async function xRun(t: TestContext, rate: number, dirName: string): Promise<{ emu: XEmulator; dir: string; env: NodeJS.ProcessEnv; clean: NodeJS.ProcessEnv }> {
  const emu = await startEmulator({ rate, keepAliveMs: 200 });
  t.after(() => emu.close());
  const rules = await syncRules(clientFor(emu), [
    { value: 'bitcoin', tag: 'crypto' },
    { value: 'lovely', tag: 'mood' },
  ]);
  assert.ok(rules.ok);
  const dir = tempDir(dirName);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_') && k !== 'X_BEARER_TOKEN'));
  const env = {
    ...clean,
    X_BEARER_TOKEN: TOKEN,
    CROWDPULSE_X_API_URL: emu.url,
    CROWDPULSE_X_MONTHLY_CAP: '0',
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
    CROWDPULSE_PIPELINE_DRAIN_TIMEOUT_MS: '3000',
    CROWDPULSE_LOG_LEVEL: 'warn',
  };
  return { emu, dir, env, clean };
}

test('#13.4 a run on the X stream records its gaps, and crowdpulse query shows them per bucket', async (t) => {
  const { emu, dir, env: runEnv, clean: env } = await xRun(t, 50, 'coverage-e2e');
  const db = join(dir, 'store.db');
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'run', '--source', 'x', '--db', db, '--port', '0', '--progress', 'off'], {
    cwd: ROOT,
    env: runEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Connected, then two drops a few seconds apart; each reconnects after X's 250 ms network backoff.
  for (let i = 0; i < 40 && emu.stats.streamConnects < 1; i++) await sleep(250);
  await sleep(2500);
  emu.inject({ kind: 'drop' });
  await sleep(3000);
  emu.inject({ kind: 'drop' });
  await sleep(2500);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.ok(emu.stats.streamConnects >= 3, `connects: ${emu.stats.streamConnects}`);

  const { stdout } = await exec(
    process.execPath,
    [
      CLI,
      'query',
      '--db',
      db,
      '--from',
      new Date(started - 1000).toISOString(),
      '--to',
      new Date(Date.now() + 1000).toISOString(),
      '--bucket',
      '1s',
      '--format',
      'json',
    ],
    { cwd: ROOT, env },
  );
  const result = JSON.parse(stdout) as {
    buckets: { coverage: number | null }[];
    coverage: { bucketStart: string; covered: number | null }[];
  };
  const known = result.coverage.filter((c) => c.covered !== null);
  assert.ok(known.length >= 8, `seconds with coverage: ${known.length}`);
  assert.ok(
    known.filter((c) => (c.covered ?? 1) < 1).length >= 2,
    `two drops leave two buckets covered in part: ${JSON.stringify(known.map((c) => c.covered))}`,
  );
  assert.ok(
    known.some((c) => c.covered === 1),
    'the seconds between the drops are covered in full',
  );
  const before = result.coverage.find((c) => Date.parse(c.bucketStart) + 1000 < started);
  assert.equal(before?.covered ?? null, null, 'before the run nothing is known');
});

test('#14.3 --limit ends a run on the X stream after that many messages', async (t) => {
  const { dir, env } = await xRun(t, 200, 'limit-x');
  const { stdout } = await exec(
    process.execPath,
    [CLI, 'run', '--source', 'x', '--limit', '30', '--db', join(dir, 'store.db'), '--port', '0', '--progress', 'off'],
    { cwd: ROOT, env, timeout: 60_000 },
  );
  assert.match(stdout, /posts stored\s+30\b/, stdout);
});
