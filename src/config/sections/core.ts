import { z } from 'zod';
import { flag, nonNegativeInt, port, positiveInt, positiveNumber, stringList } from '../types.js';

export const sourceSection = z
  .object({
    /** replay: recorded ndjson(.gz); x: the X API filtered stream; kafka: the raw-posts topic. */
    kind: z.enum(['replay', 'x', 'kafka']).default('replay'),
  })
  .prefault({});

export const replaySection = z
  .object({
    path: z.string().min(1).default('bench/fixtures/posts.ndjson.gz'),
    /** max: as fast as possible; rate: `rate` posts/s; recorded: created_at pacing divided by `speed`. */
    mode: z.enum(['max', 'rate', 'recorded']).default('max'),
    rate: positiveNumber.default(1000),
    speed: positiveNumber.default(1),
    /** Posts per batch emitted by the replay source. */
    batchSize: positiveInt.default(256),
    /** Also pace the replay with the X post-budget governor (x.monthlyCap, x.capResetDay, x.statePath). */
    governed: flag.default(false),
  })
  .prefault({});

export const modelSection = z
  .object({
    /** fast | accurate | a directory holding model.json */
    name: z.string().min(1).default('fast'),
    /** Inference worker threads (0 = one per core). */
    threads: nonNegativeInt.default(0),
    /**
     * Nice value of the inference worker threads (Linux; 0 = the process's own priority). When the
     * cores are busy, the main thread (the source, the store, acks, health and metrics) runs first and
     * the workers take the CPU it leaves; the main thread is the stage's serial part.
     */
    workerNice: nonNegativeInt.max(19).default(10),
    /** Dynamic batcher: most posts per inference call, and longest wait to fill it. 0 = the tier's default. */
    maxBatch: nonNegativeInt.default(0),
    maxWaitMs: nonNegativeInt.default(5),
    /** Languages the model is trained for; other posts are scored and flagged non_english. */
    languages: stringList.default(['en']),
    /**
     * Topic-fair scoring: before scoring, the terms that put a post into its topics (its rules'
     * keywords, phrases, #hashtags and @mentions from x.rulesFile when that file exists, and each
     * topic's own name) become one placeholder, so a topic's name cannot move its score.
     */
    topicFair: flag.default(true),
  })
  .prefault({});

export const sinkSection = z
  .object({
    kind: z.enum(['sqlite', 'influxdb', 'kafka']).default('sqlite'),
  })
  .prefault({});

export const sqliteSection = z
  .object({
    path: z.string().min(1).default('data/crowdpulse.db'),
    /**
     * Rollups (src/sinks/sqlite/rollup.ts): how often the store looks for windows to roll up, how
     * long a window must go unwritten first (the live hour is read from the rows meanwhile), the
     * longest slice of rolling between two batches, and the time allowed at close.
     */
    rollupIntervalMs: positiveInt.default(2000),
    rollupQuietMs: nonNegativeInt.default(5000),
    rollupSliceMs: positiveInt.default(50),
    rollupCloseMs: nonNegativeInt.default(10_000),
  })
  .prefault({});
export type SqliteConfig = z.infer<typeof sqliteSection>;

export const pipelineSection = z
  .object({
    /** Items each bounded queue may hold. */
    queueCapacity: positiveInt.default(4096),
    /** Messages the source reads before the run ends (posts and dead letters; 0 = no end): replay, X stream and Kafka alike (--limit). */
    limit: nonNegativeInt.default(0),
    /** Batches written to the sink at once. */
    sinkConcurrency: positiveInt.default(1),
    /** The store sink's batches: most posts per write (one SQLite transaction, or InfluxDB requests), longest wait to fill one. */
    storeBatchSize: positiveInt.default(2048),
    storeBatchWaitMs: nonNegativeInt.default(10),
    /** On SIGTERM, the longest wait for in-flight batches of `crowdpulse run` before it closes anyway. */
    drainTimeoutMs: positiveInt.default(15000),
    /**
     * Once a role's pipeline ended, the longest wait for its components to close (every role); past
     * it the role exits with CP_CLOSE_TIMEOUT instead of hanging until it is killed.
     */
    closeTimeoutMs: positiveInt.default(20000),
  })
  .prefault({});

export const httpSection = z
  .object({
    host: z.string().default('127.0.0.1'),
    /** 0 = a free port; the chosen one is logged. */
    port: port.default(9464),
    enabled: flag.default(true),
    /**
     * File holding the access token of the port (else CROWDPULSE_HTTP_TOKEN). Required when `host` is
     * beyond loopback: every path but /healthz and /readyz then needs it (src/telemetry/http-access.ts).
     */
    tokenFile: z.string().default(''),
  })
  .prefault({});

export const logSection = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** auto: a progress bar on a terminal, plain lines otherwise. */
    progress: z.enum(['auto', 'bar', 'lines', 'off']).default('auto'),
    /** Seconds between progress lines when not on a terminal. */
    intervalSeconds: positiveNumber.default(5),
  })
  .prefault({});

export const deadLetterSection = z
  .object({
    /** Where the embedded topology writes dead letters (ndjson, original bytes in base64). */
    path: z.string().min(1).default('data/dead-letters.ndjson'),
  })
  .prefault({});

export const limitsSection = z
  .object({
    /**
     * Largest message accepted anywhere: a replay line, an X stream message, a Kafka record (the
     * producer's message.max.bytes and the max.message.bytes of the topics crowdpulse creates).
     * A larger one is dead-lettered with a truncated copy, its length and its SHA-256.
     */
    maxMessageBytes: positiveInt.default(1048576),
    /** Bytes of an oversized message kept in its dead letter. */
    deadLetterSnippetBytes: positiveInt.default(4096),
  })
  .prefault({});
