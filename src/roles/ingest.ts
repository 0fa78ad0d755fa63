import type { Config } from '../config/schema.js';
import { pipeline } from '../pipeline/builder.js';
import { TallyDeadLetterSink } from '../sinks/dead-letter/tally-dead-letter-sink.js';
import { KafkaSink } from '../sinks/kafka/kafka-sink.js';
import { buildIngestRoutes, buildSource, producerStageOptions } from './components.js';
import { openKafkaBase } from './kafka-base.js';
import { runRole } from './runner.js';
import type { RoleSummary } from './summary.js';
import { CrowdpulseError } from '../errors.js';

export interface IngestSummary extends RoleSummary {
  readonly topic: string;
}

/**
 * `crowdpulse ingest`: the configured source (replay or the X stream; each post validated against
 * the contract, refusals to the dead-letter topic) → the raw-posts topic, keyed by post id.
 * Ends when the source ends (replay) or on SIGTERM.
 */
export async function runIngest(config: Config): Promise<IngestSummary> {
  if (config.source.kind === 'kafka')
    throw new CrowdpulseError('CP_USAGE', 'ingest reads from replay or the X stream; source.kind "kafka" is the analyze role\'s input');
  const routes = buildIngestRoutes(config);
  if (!routes.ok) throw routes.error;
  return runRole({
    role: 'ingest',
    config,
    routes: routes.value,
    drainMs: config.kafka.drainTimeoutMs,
    async wire(closer) {
      const { producer, deadLetters, wire } = await openKafkaBase(config, 'ingest', closer);
      const codec = await wire.postsTo(config.kafka.rawTopic);
      const built = buildSource(config, deadLetters);
      if (!built.ok) throw built.error;
      const source = closer.add('source', built.value, (s) => s.close());
      // A post whose record is larger than limits.maxMessageBytes becomes an oversized dead letter.
      const sinkDeadLetters = new TallyDeadLetterSink(deadLetters);
      const sink = new KafkaSink(producer, config.kafka.rawTopic, codec, false, {
        deadLetters: sinkDeadLetters,
        stage: 'ingest',
        limits: config.limits,
      });
      return {
        pipeline: pipeline(source).to(sink, producerStageOptions(config)),
        deadLetters,
        sinkDeadLetters,
        describe: { source: config.source.kind, to: config.kafka.rawTopic },
      };
    },
    summarize: (o) => ({ count: o.delivered, deadLetters: o.deadLetters.byCode, seconds: o.seconds, topic: config.kafka.rawTopic }),
  });
}
