/**
 * crowdpulse's analyze stage alone on the same posts: the SentimentTransform over its Piscina pool
 * (one worker per core, the tier's default batch), built by the same factory the roles use, kept
 * busy with one batch in flight per worker — no source, no store.
 *   node --import tsx bench/side-by-side/pool.ts --model fast --posts 20000
 * Prints {posts, seconds, postsPerSecond, extra} as JSON; extra.cpuMicrosPerPost is the CPU time of
 * the whole process (every thread) while the posts were scored, per post.
 */
import type { DeadLetter, Post } from '../../src/contract/index.js';
import { configSchema } from '../../src/config/schema.js';
import { buildSentimentTransform } from '../../src/roles/components.js';
import { postsOfTexts } from '../lib/fixtures.js';
import { analyserArgs, printResult, progressPrinter } from './common.js';

const { texts, model } = analyserArgs();
const config = configSchema.parse({ model: { name: model ?? 'fast' } });
const letters: DeadLetter[] = [];
const stage = await buildSentimentTransform(config, {
  write: async (l) => {
    letters.push(...l);
  },
  close: async () => undefined,
});
const posts = postsOfTexts(texts);
const batches: Post[][] = [];
for (let i = 0; i < posts.length; i += stage.maxBatch) batches.push(posts.slice(i, i + stage.maxBatch));
const progress = progressPrinter();
let done = 0;
let next = 0;
const started = performance.now();
const cpuAtStart = process.cpuUsage();
const lane = async (): Promise<void> => {
  while (next < batches.length) {
    const batch = batches[next++] as Post[];
    const out = await stage.transform.apply({ items: batch, ack: () => undefined });
    done += out.items.length;
    progress(done);
  }
};
await Promise.all(Array.from({ length: stage.threads }, lane));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuAtStart);
await stage.transform.close();
if (done !== posts.length || letters.length > 0) throw new Error(`${done} of ${posts.length} posts scored, ${letters.length} dead letters`);
printResult(posts.length, seconds, {
  model: stage.modelId,
  threads: stage.threads,
  maxBatch: stage.maxBatch,
  cpuMicrosPerPost: (cpu.user + cpu.system) / posts.length,
});
