import type { Config } from '../config/schema.js';
import { pipeline } from '../pipeline/builder.js';
import { TallyDeadLetterSink } from '../sinks/dead-letter/tally-dead-letter-sink.js';
import { KafkaSink } from '../sinks/kafka/kafka-sink.js';
import { KafkaSource } from '../sources/kafka/kafka-source.js';
import { registerReadiness } from '../telemetry/health.js';
import { buildSentimentTransform, producerStageOptions, sentimentStageOptions } from './components.js';
import { openKafkaBase } from './kafka-base.js';
import { runRole } from './runner.js';
import type { RoleSummary } from './summary.js';

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
  return runRole({
    role: 'analyze',
    config,
    drainMs: config.kafka.drainTimeoutMs,
    async wire(closer) {
      const { producer, deadLetters, wire } = await openKafkaBase(config, 'analyze', closer);
      // Registered before the consumer joins: an incompatible schema stops the role before it reads anything.
      const scoredCodec = await wire.scoredTo(config.kafka.scoredTopic);
      // The model first: a replica joins the group only when it can score.
      const sentiment = closer.add('model pool', await buildSentimentTransform(config, deadLetters), (s) => s.transform.close());
      registerReadiness('model', () => true);
      const source = closer.add(
        'consumer',
        await KafkaSource.connect({
          config: config.kafka,
          role: 'analyze',
          group: config.kafka.analyzeGroup,
          topic: config.kafka.rawTopic,
          codec: wire.postsFrom(),
          deadLetters,
          stage: 'analyze',
          limit: config.pipeline.limit,
        }),
        (s) => s.close(),
      );
      registerReadiness('kafka.consumer', () => source.ready);
      const sinkDeadLetters = new TallyDeadLetterSink(deadLetters);
      const sink = new KafkaSink(producer, config.kafka.scoredTopic, scoredCodec, false, {
        deadLetters: sinkDeadLetters,
        stage: 'analyze',
        limits: config.limits,
      });
      return {
        pipeline: pipeline(source).through(sentiment.transform, sentimentStageOptions(config, sentiment)).to(sink, producerStageOptions(config)),
        deadLetters,
        sinkDeadLetters,
        describe: {
          group: config.kafka.analyzeGroup,
          from: config.kafka.rawTopic,
          to: config.kafka.scoredTopic,
          model: sentiment.modelId,
          threads: sentiment.threads,
        },
      };
    },
    summarize: (o) => ({ count: o.delivered, deadLetters: o.deadLetters.byCode, seconds: o.seconds, topic: config.kafka.scoredTopic }),
  });
}
