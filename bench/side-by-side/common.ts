/** Arguments and output of the side-by-side analysers (each runs in its own process). */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from '../lib/child.js';
import { expectedFor } from '../lib/expected.js';

export interface AnalyserArgs {
  readonly posts: number;
  readonly fixture: string;
  readonly model: string | undefined;
  readonly texts: readonly string[];
}

export function analyserArgs(): AnalyserArgs {
  const { values } = parseArgs({
    options: { posts: { type: 'string', default: '20000' }, fixture: { type: 'string', default: 'bench/fixtures/posts.ndjson.gz' }, model: { type: 'string' } },
  });
  const posts = Number(values.posts);
  const fixture = values.fixture;
  return { posts, fixture, model: values.model, texts: expectedFor(join(REPO, fixture), posts).texts };
}

/** Prints "progress: n" at most every 250 ms (the parent's progress bar reads it). */
export function progressPrinter(): (n: number) => void {
  let last = 0;
  return (n) => {
    const now = performance.now();
    if (now - last < 250) return;
    last = now;
    process.stderr.write(`progress: ${n}\n`);
  };
}

export function printResult(posts: number, seconds: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ posts, seconds, postsPerSecond: posts / seconds, extra }) + '\n');
}
