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
  if (config.kafka.createTopics) await ensureTopics(config.kafka, crowdpulseTopics(config.kafka), config.limits);
  const producer = await KafkaProducer.connect(config.kafka, stage, config.limits);
  const deadLetters = new CountingDeadLetterSink(new KafkaDeadLetterSink(producer, config.kafka.deadLetterTopic));
  log.info(`${stage}: connected`, { brokers: config.kafka.brokers, encoding: config.kafka.encoding, compression: config.kafka.compression });
  return { producer, deadLetters };
}

/** What a Kafka role did, for its one-line summary on stdout. */
export interface RoleSummary {
  /** Posts made durable downstream (produced and acked, or stored). */
  readonly count: number;
  readonly deadLetters: ReadonlyMap<string, number>;
  readonly seconds: number;
}

/** "M dead letters (code: n, ...)", or "0 dead letters". */
export function formatDeadLetters(byCode: ReadonlyMap<string, number>): string {
  const entries = [...byCode].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return total === 0 ? '0 dead letters' : `${total} dead letters (${entries.map(([code, n]) => `${code}: ${n}`).join(', ')})`;
}

/** The summary line of a role, e.g. "analyze: 300 posts scored to raw, 2 dead letters (oversized: 2), 4.10 s". */
export function formatRoleSummary(role: string, what: string, s: RoleSummary): string {
  return `${role}: ${s.count} posts ${what}, ${formatDeadLetters(s.deadLetters)}, ${s.seconds.toFixed(2)} s`;
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
