/**
 * The bench's origin analyser (roberta-base in PyTorch, bench/origin/roberta.py) runs in the venv
 * that scripts/origin-venv.sh installs, and reports a throughput for the posts it was given. In CI
 * the test installs the venv itself (torch from PyPI, ~3 GB the first time) and fails if it cannot;
 * on a developer machine without the venv it is skipped with the command that makes one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.js';

const exec = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts/origin-venv.sh');
const inCi = process.env.CI === 'true';

async function venvPython(): Promise<string | undefined> {
  try {
    return (await exec('bash', [SCRIPT, 'python'])).stdout.trim();
  } catch {
    return undefined;
  }
}

const present = inCi ? true : (await venvPython()) !== undefined;

test(
  'the origin analyser scores the given posts one per call with roberta-base and reports its rate',
  { skip: present ? false : 'no origin venv: run scripts/origin-venv.sh install (torch from PyPI, ~3 GB)', timeout: 20 * 60_000 },
  async () => {
    if (inCi) await exec('bash', [SCRIPT, 'install'], { timeout: 18 * 60_000, maxBuffer: 16 << 20 });
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'bench/side-by-side/origin.ts', '--posts', '12'], {
      cwd: ROOT,
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
    const line = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    assert.ok(line, `no JSON result in: ${stdout.slice(-500)}`);
    const result = JSON.parse(line) as {
      posts: number;
      seconds: number;
      postsPerSecond: number;
      extra: { model: string; threads: number; tokensPerPost: number };
    };
    assert.equal(result.posts, 12);
    assert.ok(result.seconds > 0 && Number.isFinite(result.postsPerSecond));
    assert.ok(Math.abs(result.postsPerSecond - result.posts / result.seconds) < 1e-6);
    assert.match(result.extra.model, /roberta-base/);
    assert.ok(result.extra.threads >= 1);
    // Tweets are tens of tokens, never none: the texts reached the tokenizer.
    assert.ok(result.extra.tokensPerPost > 3 && result.extra.tokensPerPost < 200, `tokens per post ${result.extra.tokensPerPost}`);
  },
);
