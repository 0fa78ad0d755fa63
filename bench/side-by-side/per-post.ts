/**
 * The descendant system's way of analysing, with crowdpulse's model: one post per
 * session.run, unbatched, one intra-op thread, on the main thread, with the same encoder
 * (src/model/) and the same session options as the inference workers.
 *   node --import tsx bench/side-by-side/per-post.ts --model fast --posts 20000
 * Prints {posts, seconds, postsPerSecond, extra} as JSON.
 */
import * as ort from 'onnxruntime-node';
import { createEncoder } from '../../src/model/encoder.js';
import { loadManifest, resolveModelDir } from '../../src/model/registry.js';
import { analyserArgs, printResult, progressPrinter } from './common.js';

const { texts, model } = analyserArgs();
const modelDir = resolveModelDir(model ?? 'fast');
const manifest = await loadManifest(modelDir);
const session = await ort.InferenceSession.create(`${modelDir}/${manifest.onnx}`, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const encoder = await createEncoder(manifest, modelDir);
const progress = progressPrinter();
await session.run(encoder.encode(['warm up']));

let encodeMs = 0;
let runMs = 0;
const started = performance.now();
for (let i = 0; i < texts.length; i++) {
  const t0 = performance.now();
  const feeds = encoder.encode([texts[i] as string]);
  const t1 = performance.now();
  const out = await session.run(feeds);
  const t2 = performance.now();
  encodeMs += t1 - t0;
  runMs += t2 - t1;
  if (!out.probs) throw new Error(`model ${manifest.id} has no output "probs"`);
  if ((i & 63) === 0) progress(i);
}
const seconds = (performance.now() - started) / 1000;
printResult(texts.length, seconds, { model: manifest.id, encodeMsPerPost: encodeMs / texts.length, runMsPerPost: runMs / texts.length });
