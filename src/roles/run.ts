import type { Config } from '../config/schema.js';
import { pipeline } from '../pipeline/builder.js';
import type { TopicSummary } from '../query/sentiment-query.js';
import type { CountingDeadLetterSink } from '../sinks/dead-letter/counting-dead-letter-sink.js';
import { TallyDeadLetterSink } from '../sinks/dead-letter/tally-dead-letter-sink.js';
import { registerReadiness } from '../telemetry/health.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { logger } from '../telemetry/log.js';
import {
  buildDeadLetterSink,
  buildQuery,
  buildSentimentTransform,
  buildSink,
  buildSource,
  describeStore,
  sentimentStageOptions,
  storeStageOptions,
} from './components.js';
import { progressReporter } from './progress.js';
import { runRole } from './runner.js';
import type { RunSummary } from './summary.js';
import { CrowdpulseError } from '../errors.js';

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
  let deadLetters: CountingDeadLetterSink | undefined;
  let modelId = '';
  return runRole({
    role: 'run',
    config,
    ...(options.routes ? { routes: options.routes } : {}),
    drainMs: config.pipeline.drainTimeoutMs,
    // The dead-letter file is checked before the port opens: a bad path is one line and an exit.
    async preflight(closer) {
      const built = await buildDeadLetterSink(config);
      if (!built.ok) throw built.error;
      deadLetters = closer.add('dead letters', built.value, (d) => d.close());
    },
    async wire(closer) {
      const letters = deadLetters as CountingDeadLetterSink;
      const builtSource = buildSource(config, letters);
      if (!builtSource.ok) throw builtSource.error;
      const source = closer.add('source', builtSource.value, (s) => s.close());
      // Posts the sink dead-lettered (e.g. refused by InfluxDB) are in acked batches but not stored.
      const sinkDeadLetters = new TallyDeadLetterSink(letters);
      const builtSink = buildSink(config, sinkDeadLetters);
      if (!builtSink.ok) throw builtSink.error;
      const sink = closer.add('sink', builtSink.value, (s) => s.close());
      const sentiment = closer.add('model pool', await buildSentimentTransform(config, letters), (s) => s.transform.close());
      modelId = sentiment.modelId;
      registerReadiness('model', () => true);
      const progress = progressReporter(config.log.progress, options.expectedPosts, config.log.intervalSeconds);
      return {
        pipeline: pipeline(source).through(sentiment.transform, sentimentStageOptions(config, sentiment)).to(sink, storeStageOptions(config)),
        deadLetters: letters,
        sinkDeadLetters,
        describe: { source: config.source.kind, model: sentiment.modelId, sink: config.sink.kind },
        onTick: (s) => progress.update({ stored: s.delivered, deadLetters: s.deadLetters, queueDepths: s.queueDepths }),
        onEnd: () => progress.stop(),
      };
    },
    async summarize(o) {
      const dead = o.deadLetters.total;
      const linesRead = o.messagesRead ?? o.delivered + dead;
      const topics = await readTopics(config);
      return {
        linesRead,
        postsStored: o.delivered,
        deadLetters: o.deadLetters.byCode,
        unfinished: linesRead - o.delivered - dead,
        interrupted: o.stopped ? (o.end === 'drain_timeout' ? 'drain_timeout' : 'signal') : undefined,
        seconds: o.seconds,
        modelId,
        topics: topics.ok ? topics.topics : [],
        topicsError: topics.ok ? undefined : topics.error,
        store: describeStore(config),
        deadLetterPath: config.deadLetter.path,
        metricsUrl: o.httpUrl,
      };
    },
  });
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
    const timedOut = new Promise<never>((_, reject) =>
      timeout.addEventListener('abort', () => reject(new CrowdpulseError('CP_STORE_UNAVAILABLE', `no answer within ${SUMMARY_QUERY_TIMEOUT_MS} ms`)), {
        once: true,
      }),
    );
    return { ok: true, topics: await Promise.race([query.value.topics(), timedOut]) };
  } catch (e) {
    log.warn('the store could not be read back for the summary', { error: (e as Error).message });
    return { ok: false, error: (e as Error).message };
  } finally {
    await query.value.close().catch(() => undefined);
  }
}

const SUMMARY_QUERY_TIMEOUT_MS = 10_000;
