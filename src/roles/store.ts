import type { Config } from '../config/schema.js';
import { dashboardRoutes, lazyQuery } from '../dashboard/index.js';
import { pipeline } from '../pipeline/builder.js';
import { TallyDeadLetterSink } from '../sinks/dead-letter/tally-dead-letter-sink.js';
import { KafkaSource } from '../sources/kafka/kafka-source.js';
import { registerReadiness } from '../telemetry/health.js';
import { buildQuery, buildSink, describeStore, storeStageOptions } from './components.js';
import { openKafkaBase } from './kafka-base.js';
import { runRole } from './runner.js';
import type { RoleSummary } from './summary.js';
import { CrowdpulseError } from '../errors.js';

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
  if (config.sink.kind === 'kafka') throw new CrowdpulseError('CP_USAGE', 'store writes to a store (sink.kind sqlite or influxdb), not back to Kafka');
  // The dashboard on the store's HTTP port (/dashboard/), reading the store this role writes.
  const dashboardQuery = lazyQuery(() => buildQuery(config));
  return runRole({
    role: 'store',
    config,
    routes: dashboardRoutes(dashboardQuery),
    drainMs: config.kafka.drainTimeoutMs,
    async preflight(closer) {
      closer.add('dashboard query', dashboardQuery, (q) => q.close());
    },
    async wire(closer) {
      const { deadLetters, wire } = await openKafkaBase(config, 'store', closer);
      const sinkDeadLetters = new TallyDeadLetterSink(deadLetters);
      const built = buildSink(config, sinkDeadLetters);
      if (!built.ok) throw built.error;
      const sink = closer.add('sink', built.value, (s) => s.close());
      registerReadiness('store', () => true);
      const source = closer.add(
        'consumer',
        await KafkaSource.connect({
          config: config.kafka,
          role: 'store',
          group: config.kafka.storeGroup,
          topic: config.kafka.scoredTopic,
          codec: wire.scoredFrom(),
          deadLetters,
          stage: 'store',
          limit: config.pipeline.limit,
        }),
        (s) => s.close(),
      );
      registerReadiness('kafka.consumer', () => source.ready);
      return {
        pipeline: pipeline(source).to(sink, storeStageOptions(config)),
        deadLetters,
        sinkDeadLetters,
        describe: { group: config.kafka.storeGroup, from: config.kafka.scoredTopic, sink: config.sink.kind },
      };
    },
    summarize: (o) => ({ count: o.delivered, deadLetters: o.deadLetters.byCode, seconds: o.seconds, store: describeStore(config) }),
  });
}
