import type { Config } from '../config/schema.js';
import type { Post } from '../contract/index.js';
import { postCodec } from '../kafka/codec.js';
import { awaitPipeline, closeAll, startKafkaRole } from '../kafka/role-support.js';
import type { Sink, Source } from '../pipeline/component.js';
import { runPipeline } from '../pipeline/runner.js';
import { KafkaSink } from '../sinks/kafka/kafka-sink.js';
import { registerReadiness } from '../telemetry/health.js';
import { logger } from '../telemetry/log.js';
import { buildIngestRoutes, buildSource } from './components.js';
import { onShutdownSignal, startRoleHttp, watchQueues } from './lifecycle.js';

const log = logger('ingest');

export interface IngestSummary {
  readonly produced: number;
  readonly deadLetters: ReadonlyMap<string, number>;
  readonly seconds: number;
  readonly topic: string;
}

/**
 * `crowdpulse ingest`: the configured source (replay or the X stream; each post validated against
 * the contract, refusals to the dead-letter topic) → the raw-posts topic, keyed by post id.
 * Ends when the source ends (replay) or on SIGTERM.
 */
export async function runIngest(config: Config): Promise<IngestSummary> {
  if (config.source.kind === 'kafka') throw new Error('ingest reads from replay or the X stream; source.kind "kafka" is the analyze role\'s input');
  const routes = buildIngestRoutes(config);
  if (!routes.ok) throw routes.error;
  const http = await startRoleHttp('ingest', config, routes.value);
  let base: Awaited<ReturnType<typeof startKafkaRole>> | undefined;
  let source: Source<Post> | undefined;
  try {
    base = await startKafkaRole(config, 'ingest');
    const { producer, deadLetters } = base;
    const built = buildSource(config, deadLetters);
    if (!built.ok) throw built.error;
    source = built.value;
    // A post whose record is larger than limits.maxMessageBytes becomes an oversized dead letter.
    const sink: Sink<Post> = new KafkaSink(producer, config.kafka.rawTopic, postCodec(config.kafka.encoding), false, { deadLetters, stage: 'ingest', limits: config.limits });
    registerReadiness('kafka.producer', () => producer.brokerUp);

    let produced = 0;
    let stopped = false;
    const started = performance.now();
    const pipeline = runPipeline({
      source: source as Source<unknown>,
      transforms: [],
      sink: { sink: sink as Sink<unknown>, options: { concurrency: 4, queueCapacity: config.pipeline.queueCapacity } },
      onStored: (items) => {
        produced += items.length;
      },
    });
    const stopWatching = watchQueues(pipeline.queues);
    const stopSignals = onShutdownSignal(() => {
      stopped = true;
      pipeline.stop();
    });
    try {
      await awaitPipeline(pipeline, () => stopped, config.kafka.drainTimeoutMs);
    } finally {
      stopWatching();
      stopSignals();
    }
    const seconds = (performance.now() - started) / 1000;
    log.info('ingest finished', { produced, deadLetters: deadLetters.total, seconds: seconds.toFixed(1) });
    return { produced, deadLetters: deadLetters.byCode, seconds, topic: config.kafka.rawTopic };
  } finally {
    await closeAll([
      ['source', source ? () => (source as Source<Post>).close() : undefined],
      ['producer', base ? () => (base as { producer: { close(): Promise<void> } }).producer.close() : undefined],
      ['http', http ? () => http.close() : undefined],
    ]);
  }
}
