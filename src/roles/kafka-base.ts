import type { Config } from '../config/schema.js';
import type { Stage } from '../contract/index.js';
import { crowdpulseTopics, ensureTopics } from '../kafka/admin.js';
import { checkCompression } from '../kafka/client-config.js';
import { KafkaProducer } from '../kafka/producer.js';
import { KafkaWire } from '../kafka/wire.js';
import { CountingDeadLetterSink } from '../sinks/dead-letter/counting-dead-letter-sink.js';
import { KafkaDeadLetterSink } from '../sinks/kafka/kafka-dead-letter-sink.js';
import { registerReadiness } from '../telemetry/health.js';
import { logger } from '../telemetry/log.js';
import type { Closer } from './lifecycle.js';

const log = logger('kafka');

/** What every Kafka role starts with: topics checked/created, one producer, the dead-letter topic sink, the codecs' wire (schema registry client). */
export interface KafkaBase {
  readonly producer: KafkaProducer;
  readonly deadLetters: CountingDeadLetterSink;
  readonly wire: KafkaWire;
}

/** Opens the Kafka base of a role; the producer closes with the role (last of the Kafka clients). */
export async function openKafkaBase(config: Config, stage: Stage, closer: Closer): Promise<KafkaBase> {
  const compression = checkCompression(config.kafka);
  if (!compression.ok) throw compression.error;
  if (config.kafka.createTopics) await ensureTopics(config.kafka, crowdpulseTopics(config.kafka), config.limits);
  // Opened first, closed last: the consumer and the sinks use it until they are closed.
  const wire = closer.add('schema registry client', new KafkaWire(config.kafka), (w) => w.close());
  const producer = closer.add('producer', await KafkaProducer.connect(config.kafka, stage, config.limits), (p) => p.close());
  registerReadiness('kafka.producer', () => producer.brokerUp);
  const deadLetters = new CountingDeadLetterSink(new KafkaDeadLetterSink(producer, config.kafka.deadLetterTopic));
  log.info(`${stage}: connected`, {
    brokers: config.kafka.brokers,
    encoding: config.kafka.encoding,
    compression: config.kafka.compression,
    ...(config.kafka.schemaRegistryUrl !== '' ? { schemaRegistry: new URL(config.kafka.schemaRegistryUrl).origin } : {}),
  });
  return { producer, deadLetters, wire };
}
