/**
 * The figures the bench's goal notes are built from: the embedded run's floors (bench/micro/stages.ts:
 * reading the recording, parsing, the SQLite store's write) and the analyze stage's CPU per post
 * (bench/side-by-side/pool.ts). Checked for presence and sense on a few hundred posts, never for speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readFixtureLines } from '../../bench/lib/expected.js';
import { postFromStreamBytes } from '../../src/contract/index.js';
import { ROOT } from '../helpers.js';

const exec = promisify(execFile);
const FIXTURE = 'bench/fixtures/posts.ndjson.gz';

/** Runs a bench script under tsx and returns the JSON of its last stdout line. */
async function benchScript(script: string, args: readonly string[]): Promise<Record<string, unknown>> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', script, ...args, '--fixture', FIXTURE], {
    cwd: ROOT,
    timeout: 110_000,
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
}
const rate = (x: unknown): number => Number((x as { perSecond?: unknown } | undefined)?.perSecond);

test('bench/micro/stages.ts measures the floors of reading, parsing and storing a post', { timeout: 120_000 }, async () => {
  const r = await benchScript('bench/micro/stages.ts', ['--posts', '300', '--min-seconds', '0.05']);
  assert.equal(r.posts, 300);
  for (const key of ['read', 'parse', 'store']) {
    const perSecond = rate(r[key]);
    assert.ok(Number.isFinite(perSecond) && perSecond > 0, `${key}: ${JSON.stringify(r[key])}`);
  }
  // One row per post and topic: the first 300 valid posts of the recording, as the store wrote them.
  const posts = readFixtureLines(join(ROOT, FIXTURE))
    .slice(0, 320)
    .map((l) => postFromStreamBytes(l, Date.now()))
    .flatMap((p) => (p.ok ? [p.value] : []))
    .slice(0, 300);
  const rows = posts.reduce((a, p) => a + p.topics.length, 0);
  const store = r.store as { rowsPerPost?: unknown; rollupRowsPerSecond?: unknown };
  assert.equal(store.rowsPerPost, rows / 300);
  const rolled = Number(store.rollupRowsPerSecond);
  assert.ok(Number.isFinite(rolled) && rolled > 0, `rollup rows/s ${String(store.rollupRowsPerSecond)}`);
});

const hasFastModel = existsSync(join(ROOT, 'models/fast/model.json'));
test(
  "bench/side-by-side/pool.ts reports the analyze stage's CPU per post",
  { skip: hasFastModel || process.env.CI === 'true' ? false : 'models/fast is missing: train/export the fast tier first', timeout: 120_000 },
  async () => {
    const r = (await benchScript('bench/side-by-side/pool.ts', ['--model', 'fast', '--posts', '2000'])) as unknown as {
      posts: number;
      extra: { cpuMicrosPerPost?: unknown; threads?: unknown };
    };
    assert.equal(r.posts, 2000);
    const cpu = Number(r.extra.cpuMicrosPerPost);
    // Scoring costs CPU: a figure of zero or below would mean the window missed the work.
    assert.ok(Number.isFinite(cpu) && cpu > 0, `cpuMicrosPerPost ${String(r.extra.cpuMicrosPerPost)}`);
  },
);
