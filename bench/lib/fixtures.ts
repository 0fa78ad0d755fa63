/**
 * The recorded posts a run replays: the bundled fixture when it holds enough posts, else a larger
 * one made by the same deterministic generator (same seed) and cached under bench/results/tmp/.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild, REPO } from './child.js';
import { expectedFor, manifestPathOf, type Expected } from './expected.js';
import type { Post } from '../../src/contract/index.js';

export const BUNDLED = 'bench/fixtures/posts.ndjson.gz';

export async function fixtureFor(posts: number, preferred: string): Promise<string> {
  const manifest = JSON.parse(readFileSync(join(REPO, manifestPathOf(preferred)), 'utf8')) as { posts: number; seed: number };
  if (posts <= manifest.posts) return preferred;
  const dir = join(REPO, 'bench/results/tmp/fixtures');
  mkdirSync(dir, { recursive: true });
  const size = Math.ceil(posts / 25_000) * 25_000;
  const out = join('bench/results/tmp/fixtures', `posts-${size}.ndjson.gz`);
  if (!existsSync(join(REPO, manifestPathOf(out)))) {
    await runChild({
      name: 'fixtures',
      args: ['bench/fixtures/generate.ts', '--posts', String(size), '--seed', String(manifest.seed), '--out', out],
      usageFile: join(dir, 'usage-generate.json'),
      timeoutMs: 300_000,
    });
  }
  return out;
}

/** Posts for measuring the analyze stage alone: the given texts, with ids, one topic and one timestamp. */
export function postsOfTexts(texts: readonly string[]): Post[] {
  const now = Date.now();
  return texts.map((text, i) => ({ id: String(1_000_000 + i), text, createdAt: new Date(now).toISOString(), lang: 'en', topics: ['bench'], ingestedAt: now }));
}

const cache = new Map<string, Expected>();

export function expectedCached(fixture: string, posts: number): Expected {
  const key = `${fixture}#${posts}`;
  let e = cache.get(key);
  if (!e) cache.set(key, (e = expectedFor(join(REPO, fixture), posts)));
  return e;
}
