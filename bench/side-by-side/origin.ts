/**
 * The origin system's analysis step on the same posts: bench/origin/roberta.py (roberta-base in
 * PyTorch fp32, one post per call) in the venv of scripts/origin-venv.sh, which the side-by-side
 * section installs first.
 *   node --import tsx bench/side-by-side/origin.ts --posts 400
 * Prints {posts, seconds, postsPerSecond, extra} as JSON (the Python script's own output).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../lib/child.js';
import { analyserArgs } from './common.js';

const { texts } = analyserArgs();
const python = execFileSync('bash', [join(REPO, 'scripts/origin-venv.sh'), 'python'], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'crowdpulse-origin-'));
try {
  const file = join(dir, 'texts.json');
  writeFileSync(file, JSON.stringify(texts));
  const child = spawn(python, [join(REPO, 'bench/origin/roberta.py'), '--texts', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`bench/origin/roberta.py exited ${code}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
