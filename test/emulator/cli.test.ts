/** `crowdpulse emulate` with the timeline options: --history, --timestamps, --search-end-lag-ms, --max-backlog; admin faults still work. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { snowflakeTime } from '../../src/emulator/timeline.js';
import { ROOT, tempDir } from '../helpers.js';
import { TOKEN } from './helpers.js';

const CLI = join(ROOT, 'bin/crowdpulse.js');

function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_') && k !== 'X_BEARER_TOKEN'));
  return { ...env, CROWDPULSE_X_BEARER_TOKEN: TOKEN };
}

function recording(): string {
  const dir = tempDir('emulate-cli');
  const path = join(dir, 'posts.ndjson');
  const lines = ['bitcoin up', 'bitcoin down', 'lovely weather'].map((text, i) => JSON.stringify({ data: { id: String(10 + i), text, lang: 'en' } }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const auth = { authorization: `Bearer ${TOKEN}` };

test('crowdpulse emulate --history --timestamps published: search sees the history with snowflake ids', { timeout: 60_000 }, async (t) => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'emulate',
      '--posts',
      recording(),
      '--port',
      '0',
      '--rate',
      '2',
      '--history',
      '60',
      '--timestamps',
      'published',
      '--search-end-lag-ms',
      '0',
      '--max-backlog',
      '5',
    ],
    { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => {
    child.kill('SIGTERM');
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /X API emulator on (http:\/\/\S+) \(3 posts, 120 published in the 60 s before start\)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out} ${stderr}`)));
  });
  const state = (await (await fetch(`${url}/_emulator/state`)).json()) as { timestamps: string; published: { history: number; total: number } };
  assert.equal(state.timestamps, 'published');
  assert.equal(state.published.history, 120);
  const res = await fetch(`${url}/2/tweets/search/recent?query=bitcoin&max_results=100&tweet.fields=created_at`, { headers: auth });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { data: { id: string; created_at: string }[]; meta: { result_count: number } };
  assert.equal(body.meta.result_count, 80, 'two of every three posts, 120 published');
  for (const p of body.data) assert.equal(p.created_at, new Date(snowflakeTime(BigInt(p.id))).toISOString());
  const fault = await fetch(`${url}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'stall', ms: 10 }) });
  assert.equal(fault.status, 202);
});

test('crowdpulse emulate --timestamps with an unknown mode is a usage error', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [CLI, 'emulate', '--posts', recording(), '--timestamps', 'sometimes'], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /--timestamps sometimes: expected recorded or published/);
});
