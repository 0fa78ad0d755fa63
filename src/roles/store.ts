import type { Config } from '../config/schema.js';
import type { ScoredPost } from '../contract/index.js';
import { scoredPostCodec } from '../kafka/codec.js';
import { awaitPipeline, closeAll, startKafkaRole, type RoleSummary } from '../kafka/role-support.js';
import type { Sink, Source } from '../pipeline/component.js';
import { runPipeline } from '../pipeline/runner.js';
import { KafkaSource } from '../sources/kafka/kafka-source.js';
import { registerReadiness } from '../telemetry/health.js';
import { logger } from '../telemetry/log.js';
import { dashboardRoutes, lazyQuery } from '../dashboard/index.js';
import { buildQuery, buildSink, describeStore, storeStageOptions } from './components.js';
import { onShutdownSignal, startRoleHttp, watchQueues } from './lifecycle.js';

const log = logger('store');

export interface StoreSummary extends RoleSummary {
  /** Where the posts are, in words (describeStore). */
  readonly store: string;
}

/**
 * `crowdpulse store`: a member of the store consumer group → the configured store sink (SQLite by
 * default). Offsets are committed after the sink made a batch durable; the sink is idempotent per
 * (post, topic), so a message read twice after a crash leaves one row. With the embedded SQLite
 * store run ONE store replica (one file, one writer); scale store replicas with InfluxDB.
 * Runs until SIGTERM, then drains and returns what it did.
 */
export async function runStore(config: Config): Promise<StoreSummary> {
  if (config.sink.kind === 'kafka') throw new Error('store writes to a store (sink.kind sqlite or influxdb), not back to Kafka');
  // The dashboard on the store's HTTP port (/dashboard/), reading the store this role writes.
  const dashboardQuery = lazyQuery(() => buildQuery(config));
  const http = await startRoleHttp('store', config, dashboardRoutes(dashboardQuery));
  let base: Awaited<ReturnType<typeof startKafkaRole>> | undefined;
  let sink: Sink<ScoredPost> | undefined;
  let source: KafkaSource<unknown> | undefined;
  try {
    base = await startKafkaRole(config, 'store');
    const { deadLetters } = base;
    const built = buildSink(config, deadLetters);
    if (!built.ok) throw built.error;
    sink = built.value;
    registerReadiness('store', () => true);
    source = await KafkaSource.connect({
      config: config.kafka, role: 'store', group: config.kafka.storeGroup, topic: config.kafka.scoredTopic,
      codec: scoredPostCodec(config.kafka.encoding), deadLetters, stage: 'store',
    }) as KafkaSource<unknown>;
    const consumer = source;
    registerReadiness('kafka.consumer', () => consumer.ready);

    let stopped = false;
    let stored = 0;
    const started = performance.now();
    const pipeline = runPipeline({
      source: source as Source<unknown>,
      transforms: [],
      sink: { sink: sink as Sink<unknown>, options: storeStageOptions(config) },
      onStored: (items) => {
        stored += items.length;
      },
    });
    const stopWatching = watchQueues(pipeline.queues);
    const stopSignals = onShutdownSignal(() => {
      stopped = true;
      pipeline.stop();
    });
    log.info('store running', { group: config.kafka.storeGroup, from: config.kafka.scoredTopic, sink: config.sink.kind });
    try {
      await awaitPipeline(pipeline, () => stopped, config.kafka.drainTimeoutMs);
    } finally {
      stopWatching();
      stopSignals();
    }
    const seconds = (performance.now() - started) / 1000;
    log.info('store finished', { stored, deadLetters: deadLetters.total, seconds: seconds.toFixed(1) });
    return { count: stored, deadLetters: deadLetters.byCode, seconds, store: describeStore(config) };
  } finally {
    await closeAll([
      ['consumer', source ? () => (source as KafkaSource<unknown>).close() : undefined],
      ['sink', sink ? () => (sink as Sink<ScoredPost>).close() : undefined],
      ['producer', base ? () => (base as { producer: { close(): Promise<void> } }).producer.close() : undefined],
      ['http', http ? () => http.close() : undefined],
      ['dashboard query', () => dashboardQuery.close()],
    ]);
  }
}
