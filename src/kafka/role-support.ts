import type { Config } from '../config/schema.js';
import type { Stage } from '../contract/index.js';
import type { RunningPipeline } from '../pipeline/runner.js';
import { CountingDeadLetterSink } from '../sinks/dead-letter/counting-dead-letter-sink.js';
import { KafkaDeadLetterSink } from '../sinks/kafka/kafka-dead-letter-sink.js';
import { logger } from '../telemetry/log.js';
import { crowdpulseTopics, ensureTopics } from './admin.js';
import { checkCompression } from './client-config.js';
import { KafkaProducer } from './producer.js';

const log = logger('kafka');

/** What every Kafka role starts with: topics checked/created, one producer, the dead-letter topic sink. */
export interface KafkaRoleBase {
  readonly producer: KafkaProducer;
  readonly deadLetters: CountingDeadLetterSink;
}

export async function startKafkaRole(config: Config, stage: Stage): Promise<KafkaRoleBase> {
  const compression = checkCompression(config.kafka);
  if (!compression.ok) throw compression.error;
  if (config.kafka.createTopics) await ensureTopics(config.kafka, crowdpulseTopics(config.kafka));
  const producer = await KafkaProducer.connect(config.kafka, stage);
  const deadLetters = new CountingDeadLetterSink(new KafkaDeadLetterSink(producer, config.kafka.deadLetterTopic));
  log.info(`${stage}: connected`, { brokers: config.kafka.brokers, encoding: config.kafka.encoding, compression: config.kafka.compression });
  return { producer, deadLetters };
}

/**
 * Waits for the pipeline to finish. After `stop` (SIGTERM), in-flight batches get `drainMs` to
 * finish; past that the role closes anyway (what was not acked is read again by the next owner).
 */
export async function awaitPipeline(pipeline: RunningPipeline, stopped: () => boolean, drainMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((resolve) => {
    const check = (): void => {
      if (stopped()) {
        timer = setTimeout(() => resolve('timeout'), drainMs);
        return;
      }
      timer = setTimeout(check, 100);
    };
    check();
  });
  try {
    const result = await Promise.race([pipeline.done.then(() => 'done' as const), bound]);
    if (result === 'timeout') log.warn(`in-flight batches did not finish within ${drainMs} ms; closing anyway`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Runs each close step even when an earlier one fails; reports the first failure. */
export async function closeAll(steps: readonly (readonly [string, (() => Promise<void>) | undefined])[]): Promise<void> {
  let first: Error | undefined;
  for (const [what, step] of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (e) {
      log.error(`closing ${what} failed`, { error: (e as Error).message });
      first ??= e as Error;
    }
  }
  if (first) throw first;
}
