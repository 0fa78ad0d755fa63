import type { ConfigFlag } from './config-options.js';

/** Flags of the Kafka roles (ingest, analyze, store); every other Kafka setting is CROWDPULSE_KAFKA_* or the config file. */
export const KAFKA_FLAG = {
  brokers: { flags: '--brokers <list>', description: 'Kafka bootstrap servers, host:port[,host:port]', key: 'kafka.brokers', option: 'brokers' },
  encoding: {
    flags: '--encoding <kind>',
    description: 'wire format of produced messages: avro | json (cp-schema headers) | confluent-avro (Schema Registry framing; needs kafka.schemaRegistryUrl)',
    key: 'kafka.encoding',
    option: 'encoding',
  },
  compression: {
    flags: '--compression <codec>',
    description: 'none | gzip | snappy | lz4 | zstd (zstd only when librdkafka has it)',
    key: 'kafka.compression',
    option: 'compression',
  },
} as const satisfies Record<string, ConfigFlag>;
