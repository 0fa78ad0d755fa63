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

const { modelDir, intraOpThreads } = workerData as SentimentWorkerData;
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
  const t0 = performance.now();
  const feeds = encoder.encode(task.texts as string[]);
  const t1 = performance.now();
  const output = await session.run(feeds);
  const t2 = performance.now();
  const probs = output.probs;
  if (!probs) throw new Error(`model in ${modelDir} has no output named "probs"`);
  metrics.record(task.texts.length, (t1 - t0) / 1000, (t2 - t1) / 1000);
  // A [batch, 3] float array is small: structured cloning it costs less than a transfer list would save.
  return { probs: probs.data as Float32Array, encodeMs: t1 - t0, inferMs: t2 - t1 };
}
