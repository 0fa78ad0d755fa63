import { z } from 'zod';
import { flag, httpUrl, nonNegativeInt, positiveInt } from '../types.js';

/**
 * Kafka transport between the roles (ingest → raw topic → analyze → scored topic → store).
 * Defaults match `scripts/kafka.sh up` (single local broker); point `brokers` at your own cluster.
 */
export const kafkaSection = z
  .object({
    /** Bootstrap servers, comma-separated host:port. */
    brokers: z.string().min(1).default('127.0.0.1:19092'),
    clientId: z.string().min(1).default('crowdpulse'),
    /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
    securityProtocol: z.enum(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl']).default('plaintext'),
    saslMechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).default('PLAIN'),
    saslUsername: z.string().default(''),
    saslPassword: z.string().default(''),
    /** Topic names: ingest → analyze, analyze → store, and refused messages of every role. */
    rawTopic: z.string().min(1).default('crowdpulse.posts.raw'),
    scoredTopic: z.string().min(1).default('crowdpulse.posts.scored'),
    deadLetterTopic: z.string().min(1).default('crowdpulse.dead-letters'),
    /** Create the topics at start (admin API) when missing. Partitions ≥ the analyze replicas you expect. */
    createTopics: flag.default(true),
    partitions: positiveInt.default(6),
    replicationFactor: positiveInt.default(1),
    /** Consumer groups: analyze replicas share one, store replicas another. */
    analyzeGroup: z.string().min(1).default('crowdpulse-analyze'),
    storeGroup: z.string().min(1).default('crowdpulse-store'),
    /**
     * Wire format of new messages; every format is always decodable. avro and json: the value alone,
     * its contract version in the cp-schema/cp-encoding headers (avro vs json measured in the README
     * design notes). confluent-avro: Confluent Schema Registry framing (byte 0, 4-byte schema id,
     * Avro binary) with the schema registered under `<topic>-value`, readable by Kafka Connect,
     * ksqlDB and other registry clients; needs schemaRegistryUrl.
     */
    encoding: z.enum(['avro', 'json', 'confluent-avro']).default('avro'),
    /**
     * Base URL of a Confluent-compatible Schema Registry API (Apicurio: http://host:port/apis/ccompat/v7);
     * empty = none. Producing with confluent-avro needs it; consumers use it to decode registry-framed messages.
     */
    schemaRegistryUrl: z.literal('').or(httpUrl).default(''),
    /** HTTP basic auth to the registry, when set. The password is never logged. */
    schemaRegistryUsername: z.string().default(''),
    schemaRegistryPassword: z.string().default(''),
    /** Compatibility level set on the subjects crowdpulse registers, before its own schema is checked against the latest version. */
    schemaRegistryCompatibility: z
      .enum(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'])
      .default('BACKWARD'),
    /** Longest one registry request may take (connect, headers and body). */
    schemaRegistryTimeoutMs: positiveInt.default(5000),
    /**
     * How long a consumer keeps retrying a registry that does not answer (or answers 5xx) for a writer
     * schema before it dead-letters the messages that need it. Below max.poll.interval.ms (300 s).
     */
    schemaRegistryRetryMs: positiveInt.default(30000),
    /** Writer schemas (by id) a consumer keeps; the least recently used is dropped. */
    schemaRegistryCacheSize: positiveInt.default(256),
    /** zstd only when librdkafka was built with it (libzstd-dev before the node-rdkafka build). */
    compression: z.enum(['none', 'gzip', 'snappy', 'lz4', 'zstd']).default('lz4'),
    /**
     * How long the producer gathers records into one batch per partition (linger.ms). 20 ms: at
     * 4,000 posts/s over 6 partitions, 5 ms makes batches of about 4 records. With 5 ms and
     * fetch.min.bytes 1, the broker spent 4.6–6.5 CPU-s per fast-tier bench run, against 3.2–4.2 s
     * with these settings (bench/results/where-the-time-went.md).
     */
    lingerMs: nonNegativeInt.default(20),
    /** A message not acknowledged by the broker within this time is a delivery error (message.timeout.ms). */
    deliveryTimeoutMs: positiveInt.default(120000),
    /** Batches a producing sink (ingest, analyze) has at the broker at once. */
    produceConcurrency: positiveInt.default(4),
    /** Rounds of re-producing messages whose delivery failed before the sink gives up. */
    deliveryRetries: nonNegativeInt.default(3),
    /**
     * Bytes the broker gathers before it answers a fetch (fetch.min.bytes), waiting at most
     * fetchWaitMs: fewer, fuller fetches under load, at most fetchWaitMs of extra latency when quiet.
     */
    fetchMinBytes: positiveInt.default(262144),
    fetchWaitMs: positiveInt.default(100),
    /** Messages per consumed batch, and the longest wait to fill one. */
    consumeBatchSize: positiveInt.default(256),
    consumeWaitMs: positiveInt.default(50),
    /**
     * Un-acked messages a consumer may hold before it pauses its partitions (resumes at half). It
     * bounds throughput too: a consumer carries at most maxInFlight ÷ (consume-to-ack time) messages
     * a second. At 4096 the fast tier's Kafka run was held to ~5,000 posts/s (bench, 200,000 posts).
     */
    maxInFlight: positiveInt.default(16384),
    commitIntervalMs: positiveInt.default(500),
    /** A consumer that stops heartbeating loses its partitions after this (broker minimum 6000). */
    sessionTimeoutMs: positiveInt.default(10000),
    /** On SIGTERM: longest wait for in-flight batches before committing what is acked and leaving. */
    drainTimeoutMs: positiveInt.default(15000),
    statsIntervalMs: positiveInt.default(2000),
    /**
     * topic.metadata.refresh.interval.ms of every client: how often topic metadata is fetched again.
     * A consumer subscribed to a topic that does not exist yet picks it up at the next refresh
     * (librdkafka's own default is 300000, five minutes of a store or analyze that reads nothing).
     */
    metadataRefreshMs: positiveInt.default(5000),
    /**
     * metadata.recovery.rebootstrap.trigger.ms of every client: a client that has had no metadata
     * from any broker for this long connects to `brokers` (the bootstrap list) again. librdkafka's
     * default, 300000, left a client stalled for five minutes after a broker restart: the broker's
     * last metadata in its shutdown named no broker, the client forgot every broker it knew, and
     * with none left to see as down nothing else triggered the re-bootstrap (broker-outage test).
     */
    rebootstrapMs: positiveInt.default(10000),
    /**
     * librdkafka debug contexts for every client (its `debug` setting: comma-separated, e.g.
     * "cgrp,fetch" or "broker,protocol"); empty = off. librdkafka's lines then go to the log at
     * info level, scope kafka.librdkafka. Verbose: for diagnosing a client, not for steady running.
     */
    debug: z
      .string()
      .regex(/^[a-z_]+(,[a-z_]+)*$|^$/, 'comma-separated librdkafka debug contexts, e.g. "cgrp,fetch"')
      .default(''),
  })
  .refine((k) => k.encoding !== 'confluent-avro' || k.schemaRegistryUrl !== '', {
    path: ['schemaRegistryUrl'],
    error: 'kafka.encoding = confluent-avro needs kafka.schemaRegistryUrl (a Confluent-compatible Schema Registry API)',
  })
  .prefault({});

export type KafkaConfig = z.infer<typeof kafkaSection>;
