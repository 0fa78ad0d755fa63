import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { logger } from '../../telemetry/log.js';
import { registry } from '../../telemetry/metrics.js';
import { mergeWorkerMetrics } from '../../telemetry/worker-metrics.js';
import { typescriptWorkerExecArgv } from '../../pipeline/worker-exec-argv.js';
import type { SentimentResult, SentimentTask, SentimentWorkerData } from '../../../workers/sentiment.worker.js';
import type { LengthChunking } from './length-chunks.js';
import { SENTIMENT_WORKER_METRICS } from './worker-metrics.js';

const WORKER = fileURLToPath(new URL('../../../workers/sentiment.worker.ts', import.meta.url));
const log = logger('sentiment-pool');

/** A Piscina pool of inference workers, one onnxruntime session each, sized to the cores by default. */
export class SentimentPool {
  readonly #pool: Piscina<SentimentTask, SentimentResult>;
  readonly threads: number;

  /** `chunking`: see SentimentWorkerData (maxChunk 0 = one model call per batch). */
  constructor(modelDir: string, threads: number, chunking: LengthChunking = { maxChunk: 0, maxPaddingShare: 0 }) {
    this.threads = threads > 0 ? threads : availableParallelism();
    const workerData: SentimentWorkerData = { modelDir, intraOpThreads: 1, chunking };
    this.#pool = new Piscina<SentimentTask, SentimentResult>({
      filename: WORKER,
      workerData,
      minThreads: this.threads,
      maxThreads: this.threads,
      // The stage never has more than `threads` tasks in flight; a small queue absorbs scheduling slack.
      maxQueue: this.threads * 2,
      idleTimeout: 60_000,
      execArgv: typescriptWorkerExecArgv(),
    });
    this.#pool.on('error', (e: unknown) => log.error('inference worker failed', { error: (e as Error).message }));
    // Each worker reports its own metrics; they appear on the role's /metrics, merged.
    mergeWorkerMetrics(registry, SENTIMENT_WORKER_METRICS);
  }

  run(texts: readonly string[]): Promise<SentimentResult> {
    return this.#pool.run({ texts });
  }

  /** Loads the model in every worker (and fails early if it cannot be loaded). */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.#pool.run({ texts: ['warm up'] })));
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
