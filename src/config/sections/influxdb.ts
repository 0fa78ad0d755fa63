import { z } from 'zod';
import { httpUrl, nonNegativeInt, positiveInt } from '../types.js';

/**
 * The InfluxDB store (sink.kind = influxdb) and its queries. Works with InfluxDB 1.8 (v2-compatible
 * API: bucket "db/rp", org "-", token "user:password" or empty without auth) and 2.x / Cloud
 * (bucket name, org, API token). Env: CROWDPULSE_INFLUXDB_URL, CROWDPULSE_INFLUXDB_BUCKET, ...
 */
export const influxdbSection = z
  .object({
    url: httpUrl.default('http://127.0.0.1:18086'),
    /** 2.x: the organisation name or id; 1.8: "-". */
    org: z.string().default('-'),
    /** 2.x: the bucket; 1.8: "database/retention-policy" (the database must exist). */
    bucket: z.string().min(1).default('crowdpulse/autogen'),
    /** 2.x: an API token; 1.8: "user:password", or empty with auth off. Never logged. */
    token: z.string().default(''),
    /**
     * Measurement name. Not taken from posts, but still escaped; refused if it cannot be carried by
     * line protocol at all (control characters, a leading '#', a trailing backslash).
     */
    measurement: z
      .string()
      .min(1)
      .max(200)
      .regex(/^(?!#)(?![^]*\\$)[^\p{Cc}]+$/u, 'no control characters, no leading #, no trailing backslash')
      .default('post_sentiment'),
    /** Points per write request. */
    batchSize: positiveInt.default(5000),
    /** Points accepted but not yet durable; write() waits while the buffer is full. */
    maxBufferPoints: positiveInt.default(50_000),
    /** Write requests in flight at once. */
    maxInFlight: positiveInt.default(2),
    /** gzip request bodies of at least this many bytes (0 = always). */
    gzipMinBytes: nonNegativeInt.default(1024),
    /** zlib level 1 (fast) .. 9 (small). */
    gzipLevel: z.coerce.number().int().min(1).max(9).default(3),
    /** Where line protocol is encoded and gzipped: main (the event loop + zlib's thread pool) or pool (Piscina). Measured: bench/influxdb-encode.ts. */
    encoder: z.enum(['main', 'pool']).default('main'),
    /** Piscina threads when encoder = pool (0 = one per core). */
    encoderThreads: nonNegativeInt.default(0),
    /** Backoff: first delay, cap, and give-up time for retryable failures (0 = retry until the server is back: backpressure). */
    retryInitialMs: positiveInt.default(250),
    retryMaxDelayMs: positiveInt.default(15_000),
    retryMaxTimeMs: nonNegativeInt.default(0),
    /** Cap on an honoured Retry-After (seconds in the header). */
    retryAfterMaxMs: positiveInt.default(60_000),
    requestTimeoutMs: positiveInt.default(30_000),
    /**
     * Rollups (src/sinks/influxdb/roller.ts): how often the store's roller folds the hour windows it
     * wrote into `<measurement>_rollup` points, how long a window must go unwritten before it is rolled,
     * and how long closing the sink may spend rolling what is still pending.
     */
    rollupIntervalMs: positiveInt.default(5000),
    rollupQuietMs: nonNegativeInt.default(5000),
    rollupCloseMs: nonNegativeInt.default(5000),
  })
  .prefault({});

export type InfluxdbConfig = z.infer<typeof influxdbSection>;
