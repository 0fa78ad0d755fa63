import type { KafkaConfig } from '../config/sections/kafka.js';
import { logger } from '../telemetry/log.js';
import { adminSettings, DEFAULT_LIMITS, kafkaMaxMessageBytes, type Limits } from './client-config.js';
import { AdminClient, ERR, type LibrdKafkaError } from './rdkafka.js';
import { CrowdpulseError } from '../errors.js';

const log = logger('kafka');

/** The topics every role relies on, from configuration. */
export function crowdpulseTopics(config: KafkaConfig): string[] {
  return [config.rawTopic, config.scoredTopic, config.deadLetterTopic];
}

/**
 * Creates the topics that do not exist yet (explicitly, with the configured partitions and
 * replication factor; the broker's auto-creation is not relied on). An existing topic is left as it is.
 * Their max.message.bytes is limits.maxMessageBytes plus room for headers (kafkaMaxMessageBytes), so
 * that the broker accepts every record the producer may send.
 */
export async function ensureTopics(config: KafkaConfig, topics: readonly string[], limits: Limits = DEFAULT_LIMITS, timeoutMs = 30000): Promise<void> {
  const topicConfig = {
    'min.insync.replicas': config.replicationFactor >= 3 ? '2' : '1',
    'max.message.bytes': String(kafkaMaxMessageBytes(limits)),
  };
  const admin = AdminClient.create(adminSettings(config, 'admin'));
  try {
    for (const topic of topics) {
      await new Promise<void>((resolve, reject) => {
        admin.createTopic(
          { topic, num_partitions: config.partitions, replication_factor: config.replicationFactor, config: topicConfig },
          timeoutMs,
          (e: LibrdKafkaError | undefined) => {
            if (!e) {
              log.info('topic created', { topic, partitions: config.partitions, replicationFactor: config.replicationFactor });
              resolve();
            } else if (e.code === ERR.ERR_TOPIC_ALREADY_EXISTS) {
              resolve();
            } else {
              reject(new CrowdpulseError('CP_KAFKA_TOPIC', `creating topic ${topic} on ${config.brokers} failed: ${e.message} (code ${e.code})`));
            }
          },
        );
      });
    }
  } finally {
    admin.disconnect();
  }
}
