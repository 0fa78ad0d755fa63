import type { Config } from '../config/schema.js';
import type { ScoredPost } from '../contract/index.js';
import { postCodec, scoredPostCodec } from '../kafka/codec.js';
import { awaitPipeline, closeAll, startKafkaRole, type RoleSummary } from '../kafka/role-support.js';
import type { Sink, Source, Transform } from '../pipeline/component.js';
import { runPipeline } from '../pipeline/runner.js';
import { KafkaSink } from '../sinks/kafka/kafka-sink.js';
import { KafkaSource } from '../sources/kafka/kafka-source.js';
import { registerReadiness } from '../telemetry/health.js';
import { logger } from '../telemetry/log.js';
import { buildSentimentTransform } from './components.js';
import { onShutdownSignal, startRoleHttp, watchQueues } from './lifecycle.js';

const log = logger('analyze');

export interface AnalyzeSummary extends RoleSummary {
  readonly topic: string;
}

/**
 * `crowdpulse analyze`: a member of the analyze consumer group (replicas share the raw topic's
 * partitions) → sentiment on the worker pool → the scored-posts topic. Offsets of a batch are
 * committed once its scored posts are acknowledged by the broker. Runs until SIGTERM, then drains
 * and returns what it did.
 */
export async function runAnalyze(config: Config): Promise<AnalyzeSummary> {
  const http = await startRoleHttp('analyze', config);
  let base: Awaited<ReturnType<typeof startKafkaRole>> | undefined;
  let sentiment: Awaited<ReturnType<typeof buildSentimentTransform>> | undefined;
  let source: KafkaSource<unknown> | undefined;
  try {
    base = await startKafkaRole(config, 'analyze');
    const { producer, deadLetters } = base;
    // The model first: a replica joins the group only when it can score.
    sentiment = await buildSentimentTransform(config, deadLetters);
    registerReadiness('model', () => true);
    source = await KafkaSource.connect({
      config: config.kafka, role: 'analyze', group: config.kafka.analyzeGroup, topic: config.kafka.rawTopic,
      codec: postCodec(config.kafka.encoding), deadLetters, stage: 'analyze',
    }) as KafkaSource<unknown>;
    const consumer = source;
    registerReadiness('kafka.consumer', () => consumer.ready);
    registerReadiness('kafka.producer', () => producer.brokerUp);
    const sink: Sink<ScoredPost> = new KafkaSink(producer, config.kafka.scoredTopic, scoredPostCodec(config.kafka.encoding), false, { deadLetters, stage: 'analyze', limits: config.limits });

    let stopped = false;
    let scored = 0;
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
      sink: { sink: sink as Sink<unknown>, options: { concurrency: 4, queueCapacity: config.pipeline.queueCapacity } },
      onStored: (items) => {
        scored += items.length;
      },
    });
    const stopWatching = watchQueues(pipeline.queues);
    const stopSignals = onShutdownSignal(() => {
      stopped = true;
      pipeline.stop();
    });
    log.info('analyze running', { group: config.kafka.analyzeGroup, from: config.kafka.rawTopic, to: config.kafka.scoredTopic, model: sentiment.modelId, threads: sentiment.threads });
    try {
      await awaitPipeline(pipeline, () => stopped, config.kafka.drainTimeoutMs);
    } finally {
      stopWatching();
      stopSignals();
    }
    const seconds = (performance.now() - started) / 1000;
    log.info('analyze finished', { scored, deadLetters: deadLetters.total, seconds: seconds.toFixed(1) });
    return { count: scored, deadLetters: deadLetters.byCode, seconds, topic: config.kafka.scoredTopic };
  } finally {
    await closeAll([
      ['consumer', source ? () => (source as KafkaSource<unknown>).close() : undefined],
      ['model pool', sentiment ? () => (sentiment as { transform: { close(): Promise<void> } }).transform.close() : undefined],
      ['producer', base ? () => (base as { producer: { close(): Promise<void> } }).producer.close() : undefined],
      ['http', http ? () => http.close() : undefined],
    ]);
  }
}
