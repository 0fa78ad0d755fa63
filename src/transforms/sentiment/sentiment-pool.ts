import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { logger } from '../../telemetry/log.js';
import { registry } from '../../telemetry/metrics.js';
import { mergeWorkerMetrics } from '../../telemetry/worker-metrics.js';
import { typescriptWorkerExecArgv } from '../../pipeline/worker-exec-argv.js';
import type { SentimentResult, SentimentTask, SentimentWorkerData } from '../../../workers/sentiment.worker.js';
import type { LengthChunking } from './length-chunks.js';
import type { TopicTerms } from '../../model/topic-terms.js';
import { SENTIMENT_WORKER_METRICS } from './worker-metrics.js';

const WORKER = fileURLToPath(new URL('../../../workers/sentiment.worker.ts', import.meta.url));
const log = logger('sentiment-pool');

export interface SentimentPoolOptions {
  /** See SentimentWorkerData (maxChunk 0, the default, = one model call per batch). */
  readonly chunking?: LengthChunking;
  /** The workers mask these terms (each post's topics come with its text to run()); none = texts as posted. */
  readonly topicTerms?: TopicTerms;
  /** Nice value of the worker threads (model.workerNice); 0 = unchanged. */
  readonly nice?: number;
}

/** A Piscina pool of inference workers, one onnxruntime session each, sized to the cores by default. */
export class SentimentPool {
  readonly #pool: Piscina<SentimentTask, SentimentResult>;
  readonly threads: number;
  /** Whether the workers mask each post's topic terms before scoring (topic-fair scoring). */
  readonly masksTopics: boolean;

  constructor(modelDir: string, threads: number, options: SentimentPoolOptions = {}) {
    this.threads = threads > 0 ? threads : availableParallelism();
    const { chunking = { maxChunk: 0, maxPaddingShare: 0 }, topicTerms, nice = 0 } = options;
    this.masksTopics = topicTerms !== undefined;
    const workerData: SentimentWorkerData = { modelDir, intraOpThreads: 1, chunking, nice, ...(topicTerms ? { topicRules: topicTerms.rules } : {}) };
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

  /** Scores `texts`; `topicKeys[i]` (topicsKey) says which terms to mask in text i when the pool masks topics. */
  run(texts: readonly string[], topicKeys?: readonly string[]): Promise<SentimentResult> {
    return this.#pool.run(topicKeys === undefined ? { texts } : { texts, topicKeys });
  }

  /** Loads the model in every worker (and fails early if it cannot be loaded). */
  async warmUp(): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.#pool.run({ texts: ['warm up'] })));
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
