/** Shared helpers for the model tests: fixtures, the labelled data, the Python reference side. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLabelled } from '../../src/model/datasets.js';
import { ROOT } from '../helpers.js';

export const IN_CI = process.env.CI === 'true';
export const FIXTURES = join(ROOT, 'test/model/fixtures');
export const DATA = process.env.CROWDPULSE_DATA ?? join(ROOT, '../shared/data');

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export const syntheticPosts = (): string[] => fixture<string[]>('synthetic-posts.json');

/**
 * Decides whether a test that needs something missing runs: in CI it must fail (throws),
 * on a dev machine it is skipped with `how` saying how to get it. Returns the skip reason or false.
 */
export function needs(ok: boolean, what: string, how: string): string | false {
  if (ok) return false;
  if (IN_CI) throw new Error(`${what} is missing in CI: ${how}`);
  return `${what} missing: ${how}`;
}

export const hasData = (): boolean => existsSync(join(DATA, 'README.md'));

/** ≥ 2,000 real posts: TweetEval val (TweetEval style) + US airline tweets (raw: mentions, URLs, emoji). */
export function realPosts(): string[] {
  const val = readLabelled(join(DATA, 'eval/tweeteval-sentiment/val_text.txt')).texts;
  const airline = readLabelled(join(DATA, 'eval-only/us-airline/Tweets.csv')).texts.slice(0, 1500);
  return [...val, ...airline];
}

/** A Python interpreter that can import `module` ('' = stdlib only), or undefined. */
export function python(module: string): string | undefined {
  const candidates = [process.env.CROWDPULSE_PYTHON, join(ROOT, 'models/.venv-parity/bin/python'), join(ROOT, 'models/.venv/bin/python'), 'python3'];
  for (const py of candidates) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', module ? `import ${module}` : 'pass'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** Runs models/training/parity_cli.py on texts; one JSON value per text. */
export function pythonReference<T>(py: string, args: string[], texts: readonly unknown[]): T[] {
  const r = spawnSync(py, [join(ROOT, 'models/training/parity_cli.py'), ...args], {
    input: texts.map((t) => JSON.stringify(t)).join('\n') + '\n',
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`parity_cli.py ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  if (lines.length !== texts.length) throw new Error(`parity_cli.py returned ${lines.length} results for ${texts.length} texts`);
  return lines.map((l) => JSON.parse(l) as T);
}

/** First index where two arrays of JSON-able values differ, or -1. */
export function firstDiff(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  return -1;
}
