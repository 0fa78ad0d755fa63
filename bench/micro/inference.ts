/**
 * Inference micro-benchmark of one tier: posts/s against batch size and thread count.
 *  - session: one onnxruntime session in this thread, intra-op threads 1 or 2, inputs encoded
 *    beforehand (model time only), batch sizes swept;
 *  - pool: crowdpulse's analyze stage as the roles build it (Piscina workers, one single-threaded
 *    session each, encoding inside the worker, tier-default batch), 1 or 2 workers kept busy;
 *  - encode: the tier's encoder (tokenization / feature hashing) alone, batch 1 and 256.
 * Achieved ops/s = 2 × MACs (from the ONNX graph, at the padded length actually fed), plus for a
 * bag-of-features model one add per gathered embedding element (feature slots actually fed), / time. Batches are formed in
 * arrival order (as the pipeline does) and, for comparison, from length-sorted posts.
 *   node --import tsx bench/micro/inference.ts --model accurate [--posts 2048] [--min-seconds 1.5]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { createEncoder } from '../../src/model/encoder.js';
import { loadManifest, resolveModelDir } from '../../src/model/registry.js';
import type { Post } from '../../src/contract/index.js';
import { configSchema } from '../../src/config/schema.js';
import { buildSentimentTransform } from '../../src/roles/components.js';
import { REPO } from '../lib/child.js';
import { postsOfTexts } from '../lib/fixtures.js';
import { expectedFor } from '../lib/expected.js';
import { countMacs, macsOfBatch, opsOfBatch } from '../lib/onnx-macs.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fast' },
    posts: { type: 'string', default: '2048' },
    fixture: { type: 'string', default: 'bench/fixtures/posts.ndjson.gz' },
    batches: { type: 'string', default: '1,8,32,128,512' },
    threads: { type: 'string', default: '1,2' },
    'min-seconds': { type: 'string', default: '1.5' },
  },
});
const minSeconds = Number(values['min-seconds']);
const texts = expectedFor(join(REPO, values.fixture), Number(values.posts)).texts as string[];
const modelDir = resolveModelDir(values.model);
const manifest = await loadManifest(modelDir);
const onnxPath = `${modelDir}/${manifest.onnx}`;
const encoder = await createEncoder(manifest, modelDir);
const macs = countMacs(onnxPath);
const perToken = macs.activationProducts > 0;
const batches = values.batches.split(',').map(Number);
const threadCounts = values.threads.split(',').map(Number);
const note = (s: string): void => void process.stderr.write(`${s}\n`);

/**
 * Feature slots a feed holds for the whole batch, padding included: batch × padded length for a
 * [batch, seq] token model; the flat id count for a bag model fed without padding; else the
 * largest 2-D [batch, n] feed.
 */
function slotsOf(feeds: Record<string, ort.Tensor>, batch: number): number {
  const tensors = Object.values(feeds);
  if (perToken) {
    const t = tensors.find((x) => x.dims.length === 2 && Number(x.dims[0]) === batch);
    return t ? t.size : batch;
  }
  const flat = tensors.filter((x) => x.dims.length === 1 && x.type.startsWith('int')).sort((a, b) => b.size - a.size)[0];
  if (flat) return flat.size;
  const padded = tensors.filter((x) => x.dims.length === 2 && Number(x.dims[0]) === batch && x.type.startsWith('int')).sort((a, b) => b.size - a.size)[0];
  return padded ? padded.size : batch;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Runs `pass` until `minSeconds` have passed (at least once); returns items/s and seconds per pass. */
async function timed(items: number, pass: () => Promise<void> | void): Promise<{ perSecond: number; secondsPerPass: number; passes: number }> {
  await pass(); // warm-up
  let passes = 0;
  const t0 = performance.now();
  do {
    await pass();
    passes += 1;
  } while ((performance.now() - t0) / 1000 < minSeconds);
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: (items * passes) / seconds, secondsPerPass: seconds / passes, passes };
}

/** Texts ordered by length, so that a batch holds posts of similar length (less padding). */
const byLength = [...texts].sort((a, b) => a.length - b.length);

const session: Record<string, unknown>[] = [];
for (const threads of threadCounts) {
  const s = await ort.InferenceSession.create(onnxPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  for (const [order, input] of [
    ['arrival', texts],
    ['length-sorted', byLength],
  ] as const) {
    for (const batch of batches) {
      if (order === 'length-sorted' && (batch === 1 || threads !== threadCounts[0])) continue;
      const feeds = chunks(input, batch).map((c) => encoder.encode(c));
      let macTotal = 0;
      let opsTotal = 0;
      let slots = 0;
      for (const [i, f] of feeds.entries()) {
        const n = Math.min(batch, input.length - i * batch);
        const fed = slotsOf(f, n);
        macTotal += macsOfBatch(macs, n, fed / n, perToken);
        opsTotal += opsOfBatch(macs, n, fed, perToken);
        slots += fed;
      }
      const r = await timed(input.length, async () => {
        for (const f of feeds) await s.run(f);
      });
      session.push({
        threads,
        batch,
        order,
        postsPerSecond: r.perSecond,
        slotsPerPost: slots / input.length,
        macsPerPost: macTotal / input.length,
        opsPerPost: opsTotal / input.length,
        opsPerSecond: opsTotal / r.secondsPerPass,
      });
      note(`session threads=${threads} batch=${batch} ${order}: ${Math.round(r.perSecond)} posts/s`);
    }
  }
  await s.release();
}

const encode: Record<string, unknown>[] = [];
for (const batch of [1, 256]) {
  const groups = chunks(texts, batch);
  const r = await timed(texts.length, () => {
    for (const g of groups) encoder.encode(g);
  });
  encode.push({ batch, postsPerSecond: r.perSecond });
  note(`encode batch=${batch}: ${Math.round(r.perSecond)} posts/s`);
}

const pool: Record<string, unknown>[] = [];
for (const workers of threadCounts) {
  // The analyze stage exactly as the roles build it (pool, tier-default batch, length-sorted chunks), with `workers` threads.
  const stage = await buildSentimentTransform(configSchema.parse({ model: { name: values.model, threads: workers } }), {
    write: async (l) => {
      throw new Error(`${l.length} posts dead-lettered`);
    },
    close: async () => undefined,
  });
  const posts = postsOfTexts(texts);
  const groups = chunks(posts, stage.maxBatch);
  const r = await timed(texts.length, async () => {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < groups.length) await stage.transform.apply({ items: groups[next++] as Post[], ack: () => undefined });
    };
    await Promise.all(Array.from({ length: workers }, lane));
  });
  pool.push({ workers, batch: stage.maxBatch, postsPerSecond: r.perSecond });
  note(`pool workers=${workers} batch=${stage.maxBatch}: ${Math.round(r.perSecond)} posts/s`);
  await stage.transform.close();
}

process.stdout.write(
  JSON.stringify({
    model: manifest.id,
    onnx: onnxPath,
    posts: texts.length,
    macs: { ...macs, perToken, unit: perToken ? 'per token (plus attention: activationProducts × L × hidden per token)' : 'per post' },
    session,
    encode,
    pool,
  }) + '\n',
);
