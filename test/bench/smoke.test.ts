/**
 * CI smoke bench: the harness still works end to end. 500 posts through the embedded topology
 * with the fast tier, then the result JSON is checked for correctness (counts, no loss, every
 * figure present) — never for speed. Also: a run that loses posts must be reported as failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectedFor } from '../../bench/lib/expected.js';
import type { BenchResults } from '../../bench/lib/results.js';
import { runEmbedded } from '../../bench/topologies/embedded.js';
import { ROOT, tempDir } from '../helpers.js';

const exec = promisify(execFile);
const FIXTURE = 'bench/fixtures/posts.ndjson.gz';
const POSTS = 500;
const hasFastModel = existsSync(join(ROOT, 'models/fast/model.json'));
const skip = hasFastModel ? false : 'models/fast/model.json is missing: train/export the fast tier (models/training/train_fast.py) first';
if (!hasFastModel && process.env.CI === 'true') {
  test('the fast model is present for the smoke bench', () => assert.fail(String(skip)));
}

test(
  'npm run bench (500 posts, embedded, fast tier, replay and X emulator sources) writes a result JSON with every post stored exactly once',
  { skip: process.env.CI === 'true' ? false : skip, timeout: 300_000 },
  async () => {
    const out = join(tempDir('bench'), 'results');
    await exec(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--sections',
        'throughput',
        '--topologies',
        'embedded',
        '--source',
        'replay,x-emulator',
        '--tiers',
        'fast',
        '--posts',
        String(POSTS),
        '--repeats',
        '1',
        '--warm-up',
        '0',
        '--no-profile',
        '--out',
        out,
      ],
      { cwd: ROOT, timeout: 280_000, maxBuffer: 16 << 20 },
    );
    const r = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults;
    const expected = expectedFor(join(ROOT, FIXTURE), POSTS);

    assert.equal(r.schema, 'crowdpulse-bench/1');
    assert.deepEqual(
      r.topologies.map((x) => x.source),
      ['replay', 'x-emulator'],
    );
    const emulated = r.topologies[1] as BenchResults['topologies'][number];
    assert.equal(emulated.failed, 0, JSON.stringify(emulated.runs.map((x) => x.problems)));
    assert.equal(emulated.posts, POSTS);
    assert.ok(emulated.processFigures['x emulator'], 'the emulator process is measured too');
    const t = r.topologies[0] as BenchResults['topologies'][number];
    assert.equal(t.topology, 'embedded');
    assert.equal(t.tier, 'fast');
    assert.equal(t.posts, POSTS);
    assert.equal(t.failed, 0, JSON.stringify(t.runs.map((x) => x.problems)));
    assert.equal(t.runs.length, 1);
    assert.deepEqual(t.runs[0]?.problems, []);
    // Every figure is there and is a measured, positive number (not a speed requirement).
    for (const k of ['postsPerSecond', 'seconds', 'latencyP50Ms', 'latencyP95Ms', 'latencyP99Ms']) {
      const f = t.figures[k];
      assert.ok(f && Number.isFinite(f.median) && f.median >= 0, `figure ${k} missing: ${JSON.stringify(f)}`);
      assert.ok(f.min <= f.median && f.median <= f.max);
    }
    assert.ok((t.figures.latencyP50Ms?.median ?? 0) <= (t.figures.latencyP99Ms?.median ?? 0));
    const run = t.processFigures.run;
    assert.ok(run && (run.peakRssMiB?.median ?? 0) > 0 && (run.cpuSeconds?.median ?? 0) > 0, 'CPU and peak RSS of the run process are reported');
    assert.equal(r.machine.cores > 0, true);
    assert.ok(r.versions['onnxruntime-node']);
    // The expected contents used by the harness agree with the fixture manifest's per-topic rows for this prefix.
    assert.equal(expected.posts, POSTS);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    assert.match(md, /\| replay → embedded \(`crowdpulse run`, SQLite\) \| fast \| [\d,]+/);
    assert.match(md, /\| X API emulator → X client → embedded \(`crowdpulse run`, SQLite\) \| fast \| [\d,]+/);
    assert.doesNotMatch(md, /Failed runs/);
  },
);

test('a run that loses posts is a failed bench, not a number', { skip: process.env.CI === 'true' ? false : skip, timeout: 300_000 }, async () => {
  const full = expectedFor(join(ROOT, FIXTURE), POSTS);
  // Replay fewer lines than the expectation covers: the store then lacks posts, and the gate must say so.
  const short = { ...full, lines: Math.floor(full.lines / 2) };
  const run = await runEmbedded({ fixture: FIXTURE, expected: short, tier: 'fast', dir: join(tempDir('bench-loss'), 'run'), timeoutMs: 240_000 });
  assert.equal(run.ok, false);
  assert.ok(
    run.problems.some((p) => /posts lost/.test(p)),
    run.problems.join('; '),
  );
  assert.ok(
    run.problems.some((p) => /distinct posts stored, expected 500/.test(p)),
    run.problems.join('; '),
  );
});
