import type { Config } from '../config/schema.js';
import type { ScoredPost } from '../contract/index.js';
import type { Sink, Source, Transform } from '../pipeline/component.js';
import { runPipeline } from '../pipeline/runner.js';
import { registerReadiness } from '../telemetry/health.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { buildDeadLetterSink, buildQuery, buildSentimentTransform, buildSink, buildSource, describeStore, storeStageOptions } from './components.js';
import { onShutdownSignal, startRoleHttp, watchQueues } from './lifecycle.js';
import { progressReporter } from './progress.js';
import type { RunSummary } from './summary.js';

export interface RunOptions {
  /** Posts expected (for the progress bar), when known. */
  readonly expectedPosts?: number;
  /** Extra routes on the HTTP port (dashboard, admin). */
  readonly routes?: readonly RouteHandler[];
}

/**
 * `crowdpulse run`: every role in one process over bounded in-process queues —
 * source → analyze (worker pool, dynamic batching) → store. Returns the run summary.
 */
export async function runAllInOne(config: Config, options: RunOptions = {}): Promise<RunSummary> {
  const http = await startRoleHttp('run', config, options.routes);
  const deadLetters = buildDeadLetterSink(config);
  let sentiment: Awaited<ReturnType<typeof buildSentimentTransform>> | undefined;
  let sink: Sink<ScoredPost> | undefined;
  let openSource: Source<unknown> | undefined;
  try {
    const source = buildSource(config, deadLetters);
    if (!source.ok) throw source.error;
    openSource = source.value as Source<unknown>;
    const sinkResult = buildSink(config, deadLetters);
    if (!sinkResult.ok) throw sinkResult.error;
    sink = sinkResult.value;
    sentiment = await buildSentimentTransform(config, deadLetters);
    registerReadiness('model', () => true);

    let stored = 0;
    const started = performance.now();
    const pipeline = runPipeline({
      source: source.value as Source<unknown>,
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
        stored += items.length;
      },
    });
    registerReadiness('pipeline', () => true);
    const progress = progressReporter(config.log.progress, options.expectedPosts, config.log.intervalSeconds);
    const tick = (): void => progress.update({ stored, deadLetters: deadLetters.total, queueDepths: pipeline.queues.map((q) => q.depth) });
    const stopWatching = watchQueues(pipeline.queues, tick);
    const stopSignals = onShutdownSignal(() => pipeline.stop());
    try {
      await pipeline.done;
    } finally {
      stopWatching();
      stopSignals();
      tick();
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    await sink.close();
    sink = undefined;

    const query = buildQuery(config);
    if (!query.ok) throw query.error;
    const topics = await query.value.topics();
    await query.value.close();
    // Every line read became a stored post or a dead letter.
    const linesRead = stored + deadLetters.total;
    return {
      linesRead,
      postsStored: stored,
      deadLetters: deadLetters.byCode,
      seconds,
      modelId: sentiment.modelId,
      topics,
      store: describeStore(config),
      deadLetterPath: config.deadLetter.path,
      metricsUrl: http?.url,
    };
  } finally {
    await openSource?.close();
    await sentiment?.transform.close();
    await sink?.close();
    await deadLetters.close();
    await http?.close();
  }
}

