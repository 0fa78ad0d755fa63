import type { Config } from '../config/schema.js';
import type { Post, ScoredPost } from '../contract/index.js';
import type { Sink, Source, Transform } from '../pipeline/component.js';
import { runPipeline } from '../pipeline/runner.js';
import type { TopicSummary } from '../query/sentiment-query.js';
import { registerReadiness } from '../telemetry/health.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { logger } from '../telemetry/log.js';
import { buildDeadLetterSink, buildQuery, buildSentimentTransform, buildSink, buildSource, describeStore, storeStageOptions } from './components.js';
import { awaitDrain, Closer, onShutdownSignal, startRoleHttp, watchQueues } from './lifecycle.js';
import { progressReporter } from './progress.js';
import type { RunSummary } from './summary.js';

const log = logger('run');

export interface RunOptions {
  /** Posts expected (for the progress bar), when known. */
  readonly expectedPosts?: number;
  /** Extra routes on the HTTP port (dashboard, admin). */
  readonly routes?: readonly RouteHandler[];
}

/**
 * `crowdpulse run`: every role in one process over bounded in-process queues —
 * source → analyze (worker pool, dynamic batching) → store. Returns the run summary, also when it
 * was stopped (SIGTERM; the drain is bounded by pipeline.drainTimeoutMs) or when the store could
 * not be read back at the end (the summary then says why).
 */
export async function runAllInOne(config: Config, options: RunOptions = {}): Promise<RunSummary> {
  const closer = new Closer();
  try {
    // What can be refused is checked before the port opens, so a bad setting is one line and an exit.
    const deadLetterSink = await buildDeadLetterSink(config);
    if (!deadLetterSink.ok) throw deadLetterSink.error;
    const deadLetters = closer.add('dead letters', deadLetterSink.value, (d) => d.close());
    const http = closer.add('http', await startRoleHttp('run', config, options.routes), (h) => h?.close() ?? Promise.resolve());
    const builtSource = buildSource(config, deadLetters);
    if (!builtSource.ok) throw builtSource.error;
    const source: Source<Post> = closer.add('source', builtSource.value, (s) => s.close());
    const builtSink = buildSink(config, deadLetters);
    if (!builtSink.ok) throw builtSink.error;
    const sink: Sink<ScoredPost> = closer.add('sink', builtSink.value, (s) => s.close());
    const sentiment = closer.add('model pool', await buildSentimentTransform(config, deadLetters), (s) => s.transform.close());
    registerReadiness('model', () => true);

    let acked = 0;
    let stopped = false;
    const started = performance.now();
    const pipeline = runPipeline({
      source: source as Source<unknown>,
      transforms: [{
        transform: sentiment.transform as Transform<unknown, unknown>,
        options: {
          concurrency: sentiment.threads,
          batching: { maxItems: sentiment.maxBatch, maxWaitMs: sentiment.maxWaitMs },
          queueCapacity: config.pipeline.queueCapacity,
        },
      }],
      sink: { sink: sink as Sink<unknown>, options: storeStageOptions(config) },
      onStored: (items) => {
        acked += items.length;
      },
    });
    registerReadiness('pipeline', () => true);
    // Posts the sink dead-lettered (e.g. refused by InfluxDB) are in acked batches but not stored.
    const stored = (): number => acked - (deadLetters.byStage.get('store') ?? 0);
    const progress = progressReporter(config.log.progress, options.expectedPosts, config.log.intervalSeconds);
    const tick = (): void => progress.update({ stored: stored(), deadLetters: deadLetters.total, queueDepths: pipeline.queues.map((q) => q.depth) });
    const stopWatching = watchQueues(pipeline.queues, tick);
    const stopSignals = onShutdownSignal(() => {
      stopped = true;
      pipeline.stop();
    });
    let end;
    try {
      end = await awaitDrain(pipeline, () => stopped, config.pipeline.drainTimeoutMs);
    } finally {
      stopWatching();
      stopSignals();
      tick();
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    // Close the pipeline's components before reading the store back (the sink flushes on close).
    await closer.closeAll();

    const postsStored = stored();
    const linesRead = source.messagesRead ?? postsStored + deadLetters.total;
    const unfinished = linesRead - postsStored - deadLetters.total;
    const topics = await readTopics(config);
    return {
      linesRead,
      postsStored,
      deadLetters: deadLetters.byCode,
      unfinished,
      interrupted: stopped ? (end === 'drain_timeout' ? 'drain_timeout' : 'signal') : undefined,
      seconds,
      modelId: sentiment.modelId,
      topics: topics.ok ? topics.topics : [],
      topicsError: topics.ok ? undefined : topics.error,
      store: describeStore(config),
      deadLetterPath: config.deadLetter.path,
      metricsUrl: http?.url,
    };
  } finally {
    await closer.closeAll();
  }
}

/**
 * The per-topic totals for the summary (every topic: the summary shows the busiest and counts the
 * rest); when the store cannot be read back, the reason instead of a crash.
 */
async function readTopics(config: Config): Promise<{ ok: true; topics: readonly TopicSummary[] } | { ok: false; error: string }> {
  const query = buildQuery(config);
  if (!query.ok) return { ok: false, error: query.error.message };
  try {
    const timeout = AbortSignal.timeout(SUMMARY_QUERY_TIMEOUT_MS);
    const timedOut = new Promise<never>((_, reject) => timeout.addEventListener('abort', () => reject(new Error(`no answer within ${SUMMARY_QUERY_TIMEOUT_MS} ms`)), { once: true }));
    return { ok: true, topics: await Promise.race([query.value.topics(), timedOut]) };
  } catch (e) {
    log.warn('the store could not be read back for the summary', { error: (e as Error).message });
    return { ok: false, error: (e as Error).message };
  } finally {
    await query.value.close().catch(() => undefined);
  }
}

const SUMMARY_QUERY_TIMEOUT_MS = 10_000;
