/**
 * Hot loop of the analyze stage: one onnxruntime-node session per worker thread; tokenization
 * (the model's encoder) runs here too. Input: a batch of texts. Output: probabilities, row-major
 * [batch, 3] in the manifest's label order.
 */
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createEncoder, isPaddedEncoder, type Encoder, type PaddedEncoder } from '../src/model/encoder.js';
import { loadManifest } from '../src/model/registry.js';
import { TopicTerms, type TopicRuleTerms } from '../src/model/topic-terms.js';
import { planChunks, type LengthChunking } from '../src/transforms/sentiment/length-chunks.js';
import { sentimentWorkerMetrics } from '../src/transforms/sentiment/worker-metrics.js';

export interface SentimentWorkerData {
  readonly modelDir: string;
  /** Threads onnxruntime may use inside this worker (1 when there is a worker per core). */
  readonly intraOpThreads: number;
  /**
   * For encoders that pad to the longest post of a call (WordPiece): how a batch is split into
   * calls of posts with similar token counts (src/transforms/sentiment/length-chunks.ts).
   */
  readonly chunking: LengthChunking;
  /**
   * Topic-fair scoring (src/model/topic-mask.ts): the rules' terms per topic. When set, each text is
   * masked here, by its post's topics, before encoding; absent = texts are scored as they come.
   */
  readonly topicRules?: TopicRuleTerms;
  /** Nice value for this thread (model.workerNice); 0 = leave it. */
  readonly nice: number;
}

export interface SentimentTask {
  readonly texts: readonly string[];
  /** Each text's topics (topicsKey), when the workers mask topic terms. */
  readonly topicKeys?: readonly string[];
}

export interface SentimentResult {
  readonly probs: Float32Array;
  /** Encode (tokenize) and model time in this worker, ms. */
  readonly encodeMs: number;
  readonly inferMs: number;
}

const { modelDir, intraOpThreads, chunking, topicRules, nice } = workerData as SentimentWorkerData;
const metrics = sentimentWorkerMetrics();
lowerPriority(nice);
const topicTerms = topicRules === undefined ? undefined : new TopicTerms(new Map(topicRules));

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
  const texts = masked(task);
  const result =
    chunking.maxChunk > 0 && texts.length > 1 && isPaddedEncoder(encoder)
      ? await runChunked(session, encoder, texts)
      : await runOnce(session, () => encoder.encode(texts));
  metrics.record(texts.length, result.encodeMs / 1000, result.inferMs / 1000);
  // A [batch, 3] float array is small: structured cloning it costs less than a transfer list would save.
  return result;
}

/**
 * Linux keeps a nice value per thread, and setpriority(0) sets the calling thread's: the main thread
 * keeps its own. Elsewhere it would set the whole process's, so the workers leave it there.
 */
function lowerPriority(value: number): void {
  if (value <= 0 || process.platform !== 'linux') return;
  try {
    setPriority(0, value);
  } catch (e) {
    // Not worth failing the pool for: the workers then run at the process's priority.
    process.emitWarning(`inference worker: could not set nice ${value}: ${(e as Error).message}`);
  }
}

/** The texts the model scores: each masked by its post's topics when this pool masks topic terms. */
function masked(task: SentimentTask): string[] {
  const texts = task.texts as string[];
  const keys = task.topicKeys;
  if (topicTerms === undefined || keys === undefined) return texts;
  if (keys.length !== texts.length) throw new Error(`${texts.length} texts came with ${keys.length} topic keys`);
  return texts.map((text, i) => topicTerms.maskForKey(keys[i]!).apply(text));
}

/** Tokenizes the batch once, then one model call per chunk of posts with similar token counts. */
async function runChunked(session: ort.InferenceSession, encoder: PaddedEncoder, texts: string[]): Promise<SentimentResult> {
  const t0 = performance.now();
  const rows = encoder.rows(texts);
  const chunks = planChunks(
    rows.map((r) => r.length),
    chunking,
  );
  let out: Float32Array | undefined;
  let encodeMs = performance.now() - t0;
  let inferMs = 0;
  for (const chunk of chunks) {
    const part = await runOnce(session, () => encoder.feeds(chunk.map((i) => rows[i]!)));
    const width = part.probs.length / chunk.length;
    out ??= new Float32Array(texts.length * width);
    chunk.forEach((row, k) => out?.set(part.probs.subarray(k * width, (k + 1) * width), row * width));
    encodeMs += part.encodeMs;
    inferMs += part.inferMs;
  }
  return { probs: out as Float32Array, encodeMs, inferMs };
}

/** One model call on the feeds that `encode` builds (timed as encoding). */
async function runOnce(session: ort.InferenceSession, encode: () => Record<string, ort.Tensor>): Promise<SentimentResult> {
  const t0 = performance.now();
  const feeds = encode();
  const t1 = performance.now();
  const output = await session.run(feeds);
  const t2 = performance.now();
  const probs = output.probs;
  if (!probs) throw new Error(`model in ${modelDir} has no output named "probs"`);
  return { probs: probs.data as Float32Array, encodeMs: t1 - t0, inferMs: t2 - t1 };
}
