/**
 * Hot loop of the analyze stage: one onnxruntime-node session per worker thread; tokenization
 * (the model's encoder) runs here too. Input: a batch of texts. Output: probabilities, row-major
 * [batch, 3] in the manifest's label order.
 */
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createEncoder, type Encoder } from '../src/model/encoder.js';
import { loadManifest } from '../src/model/registry.js';
import { sentimentWorkerMetrics } from '../src/transforms/sentiment/worker-metrics.js';

export interface SentimentWorkerData {
  readonly modelDir: string;
  /** Threads onnxruntime may use inside this worker (1 when there is a worker per core). */
  readonly intraOpThreads: number;
  /**
   * Posts per model call inside one batch, 0 = the whole batch at once. For encoders that pad to the
   * longest post of a call (WordPiece), the batch is sorted by length and run in chunks of this size,
   * so that short posts are not padded to the length of a long one.
   */
  readonly lengthSortedChunk: number;
}

export interface SentimentTask {
  readonly texts: readonly string[];
}

export interface SentimentResult {
  readonly probs: Float32Array;
  /** Encode (tokenize) and model time in this worker, ms. */
  readonly encodeMs: number;
  readonly inferMs: number;
}

const { modelDir, intraOpThreads, lengthSortedChunk } = workerData as SentimentWorkerData;
const metrics = sentimentWorkerMetrics();

const ready: Promise<{ session: ort.InferenceSession; encoder: Encoder }> = (async () => {
  const manifest = await loadManifest(modelDir);
  const session = await ort.InferenceSession.create(`${modelDir}/${manifest.onnx}`, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return { session, encoder: await createEncoder(manifest, modelDir) };
})();

export default async function score(task: SentimentTask): Promise<SentimentResult> {
  const { session, encoder } = await ready;
  const texts = task.texts as string[];
  if (lengthSortedChunk <= 0 || texts.length <= lengthSortedChunk) {
    const { probs, encodeMs, inferMs } = await runOnce(session, encoder, texts);
    metrics.record(texts.length, encodeMs / 1000, inferMs / 1000);
    // A [batch, 3] float array is small: structured cloning it costs less than a transfer list would save.
    return { probs, encodeMs, inferMs };
  }
  const order = texts.map((_, i) => i).sort((a, b) => (texts[a] as string).length - (texts[b] as string).length);
  let out: Float32Array | undefined;
  let encodeMs = 0;
  let inferMs = 0;
  for (let start = 0; start < order.length; start += lengthSortedChunk) {
    const rows = order.slice(start, start + lengthSortedChunk);
    const part = await runOnce(
      session,
      encoder,
      rows.map((i) => texts[i] as string),
    );
    const width = part.probs.length / rows.length;
    out ??= new Float32Array(texts.length * width);
    rows.forEach((row, k) => out?.set(part.probs.subarray(k * width, (k + 1) * width), row * width));
    encodeMs += part.encodeMs;
    inferMs += part.inferMs;
  }
  metrics.record(texts.length, encodeMs / 1000, inferMs / 1000);
  return { probs: out as Float32Array, encodeMs, inferMs };
}

async function runOnce(session: ort.InferenceSession, encoder: Encoder, texts: string[]): Promise<SentimentResult> {
  const t0 = performance.now();
  const feeds = encoder.encode(texts);
  const t1 = performance.now();
  const output = await session.run(feeds);
  const t2 = performance.now();
  const probs = output.probs;
  if (!probs) throw new Error(`model in ${modelDir} has no output named "probs"`);
  return { probs: probs.data as Float32Array, encodeMs: t1 - t0, inferMs: t2 - t1 };
}
