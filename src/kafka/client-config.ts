import type { Config } from '../config/schema.js';
import { limitsSection } from '../config/sections/core.js';
import type { KafkaConfig } from '../config/sections/kafka.js';
import { err, ok, type Result } from '../contract/index.js';
import { features } from './rdkafka.js';
import { ConfigError } from '../config/load.js';

export type Limits = Config['limits'];

/** The `limits` section's defaults, for callers that pass none. */
export const DEFAULT_LIMITS: Limits = limitsSection.parse(undefined);

/** Room for the record envelope and headers on top of limits.maxMessageBytes (a record's value, key and headers). */
export const ENVELOPE_HEADROOM_BYTES = 64 * 1024;

/**
 * The largest Kafka record crowdpulse produces or lets a topic it creates accept: the
 * producer's message.max.bytes and the topics' max.message.bytes. Capped at librdkafka's maximum.
 */
export function kafkaMaxMessageBytes(limits: Limits): number {
  return Math.min(1_000_000_000, limits.maxMessageBytes + ENVELOPE_HEADROOM_BYTES);
}

/** librdkafka settings shared by every client: bootstrap, security, stats. */
function common(config: KafkaConfig, role: string): Record<string, string | number | boolean> {
  const settings: Record<string, string | number | boolean> = {
    'metadata.broker.list': config.brokers,
    'client.id': `${config.clientId}-${role}`,
    'security.protocol': config.securityProtocol,
    'statistics.interval.ms': config.statsIntervalMs,
    'socket.keepalive.enable': true,
    'reconnect.backoff.ms': 100,
    'reconnect.backoff.max.ms': 2000,
    'log.connection.close': false,
    // A consumer subscribed to a topic created later sees it at the next refresh (librdkafka: 5 min).
    'topic.metadata.refresh.interval.ms': config.metadataRefreshMs,
    // A client left with no known broker (they can all drop out of the metadata while a broker
    // shuts down) bootstraps again after this, instead of librdkafka's 5 minutes.
    'metadata.recovery.rebootstrap.trigger.ms': config.rebootstrapMs,
  };
  if (config.debug !== '') settings.debug = config.debug;
  if (config.securityProtocol.startsWith('sasl')) {
    settings['sasl.mechanisms'] = config.saslMechanism;
    settings['sasl.username'] = config.saslUsername;
    settings['sasl.password'] = config.saslPassword;
  }
  return settings;
}

/** Refuses a compression codec this librdkafka build lacks (zstd needs libzstd-dev at build time). */
export function checkCompression(config: KafkaConfig): Result<void, Error> {
  if (config.compression === 'none' || features.includes(config.compression)) return ok(undefined);
  return err(
    new ConfigError(
      `kafka.compression = "${config.compression}": this librdkafka build lacks it (built with: ${features.join(', ')}); for zstd install libzstd-dev, then npm rebuild node-rdkafka`,
    ),
  );
}

/** Idempotent producer: acks=all, ordered retries without duplicates per partition, delivery reports. */
export function producerSettings(config: KafkaConfig, role: string, limits: Limits = DEFAULT_LIMITS): Record<string, string | number | boolean> {
  return {
    ...common(config, role),
    'message.max.bytes': kafkaMaxMessageBytes(limits),
    'enable.idempotence': true,
    acks: 'all',
    'compression.codec': config.compression,
    'linger.ms': config.lingerMs,
    'message.timeout.ms': config.deliveryTimeoutMs,
    'queue.buffering.max.messages': 100000,
    dr_cb: true,
  };
}

/** Manual commits of acked offsets only; cooperative rebalancing so a new replica moves only some partitions. */
export function consumerSettings(config: KafkaConfig, role: string, group: string): Record<string, string | number | boolean> {
  return {
    ...common(config, role),
    'group.id': group,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'partition.assignment.strategy': 'cooperative-sticky',
    'session.timeout.ms': config.sessionTimeoutMs,
    'heartbeat.interval.ms': Math.max(500, Math.floor(config.sessionTimeoutMs / 5)),
    // Bounded prefetch: librdkafka's local queue, on top of the pipeline's own maxInFlight bound.
    'queued.max.messages.kbytes': 16384,
    'fetch.min.bytes': config.fetchMinBytes,
    'fetch.wait.max.ms': config.fetchWaitMs,
  };
}

export function adminSettings(config: KafkaConfig, role: string): Record<string, string | number | boolean> {
  const { 'statistics.interval.ms': _stats, ...rest } = common(config, role);
  return rest;
}
