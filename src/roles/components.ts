import { err, ok, type Post, type Result, type ScoredPost } from '../contract/index.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { codeOf, CrowdpulseError } from '../errors.js';
import { ModelError } from '../model/errors.js';
import type { DeadLetterSink, Sink, Source } from '../pipeline/component.js';
import type { StageOptions } from '../pipeline/runner.js';
import { loadManifest, resolveModelDir } from '../model/registry.js';
import { CountingDeadLetterSink } from '../sinks/dead-letter/counting-dead-letter-sink.js';
import { FileDeadLetterSink } from '../sinks/dead-letter/file-dead-letter-sink.js';
import { SqliteStore } from '../sinks/sqlite/sqlite-store.js';
import { framerLimits } from '../sources/line-framer.js';
import { ReplaySource } from '../sources/replay/replay-source.js';
import { buildGovernor, buildRulesAdminRoute, buildXStreamSource } from '../sources/x-stream/index.js';
import { governorPacer } from '../x/governor.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import type { SentimentQuery } from '../query/sentiment-query.js';
import { SqliteQuery } from '../query/sqlite-query.js';
import { InfluxQuery } from '../query/influxdb-query.js';
import { buildInfluxSink } from '../sinks/influxdb/index.js';
import { SentimentPool } from '../transforms/sentiment/sentiment-pool.js';
import { SentimentTransform } from '../transforms/sentiment/sentiment-transform.js';

/**
 * Factories from configuration to components. Roles are wirings of what these return; each kind
 * is one explicit case here (no registration by side-effect imports).
 */

/** The embedded topology's dead-letter file, checked before anything starts (a bad path is one line, not a crash). */
export async function buildDeadLetterSink(config: Config): Promise<Result<CountingDeadLetterSink, Error>> {
  const file = await FileDeadLetterSink.open(config.deadLetter.path);
  return file.ok ? ok(new CountingDeadLetterSink(file.value)) : file;
}

export function buildSource(config: Config, deadLetters: DeadLetterSink): Result<Source<Post>, Error> {
  switch (config.source.kind) {
    case 'replay': {
      const { path, mode, rate, speed, batchSize, limit, governed } = config.replay;
      const lineLimits = framerLimits(config.limits);
      if (!governed) return ReplaySource.open({ path, mode, rate, speed, batchSize, limit, lineLimits }, deadLetters);
      let governor: ReturnType<typeof buildGovernor>;
      try {
        governor = buildGovernor(config.x);
      } catch (e) {
        return err(new CrowdpulseError(codeOf(e, 'CP_X_GOVERNOR_STATE'), `replay.governed: ${(e as Error).message}`, { cause: e }));
      }
      if (!governor) return err(new ConfigError('replay.governed needs a post budget: set x.monthlyCap (CROWDPULSE_X_MONTHLY_CAP) above 0'));
      return ReplaySource.open({ path, mode, rate, speed, batchSize, limit, lineLimits, governor: governorPacer(governor) }, deadLetters);
    }
    case 'x':
      return buildXStreamSource(config, deadLetters);
    default:
      return err(new CrowdpulseError('CP_USAGE', `source.kind "${config.source.kind}" is not available in this role`));
  }
}

/** Routes every role that reads the X stream mounts on its HTTP port: the rules admin API, when a token is configured. */
export function buildIngestRoutes(config: Config): Result<RouteHandler[], Error> {
  const admin = buildRulesAdminRoute(config);
  if (!admin.ok) return admin;
  return ok(admin.value ? [admin.value] : []);
}

export function buildSink(config: Config, deadLetters: DeadLetterSink): Result<Sink<ScoredPost>, Error> {
  switch (config.sink.kind) {
    case 'sqlite':
      try {
        return ok(new SqliteStore(config.sqlite.path));
      } catch (e) {
        return err(new CrowdpulseError('CP_STORE_OPEN', `sqlite.path = ${JSON.stringify(config.sqlite.path)} (--db, CROWDPULSE_SQLITE_PATH): cannot open the store: ${(e as Error).message}`, { cause: e }));
      }
    case 'influxdb':
      return ok(buildInfluxSink(config.influxdb, deadLetters));
    default:
      return err(new CrowdpulseError('CP_USAGE', `sink.kind "${config.sink.kind}" is not available in this role`));
  }
}

/** Where the stored sentiment is, in words, for summaries. */
export function describeStore(config: Config): string {
  switch (config.sink.kind) {
    case 'sqlite':
      return `SQLite ${config.sqlite.path} (table post_sentiment)`;
    case 'influxdb':
      return `InfluxDB ${config.influxdb.url} bucket ${config.influxdb.bucket} (measurement ${config.influxdb.measurement})`;
    default:
      return config.sink.kind;
  }
}

export function buildQuery(config: Config): Result<SentimentQuery, Error> {
  switch (config.sink.kind) {
    case 'sqlite':
      return ok(new SqliteQuery(config.sqlite.path));
    case 'influxdb':
      return ok(new InfluxQuery(config.influxdb));
    default:
      return err(new CrowdpulseError('CP_USAGE', `no query for sink.kind "${config.sink.kind}"`));
  }
}

/**
 * Stage options of the store sink, the same in every role that writes the store: larger
 * transactions/requests make writes cheaper, and the wait is short so latency stays low.
 */
export function storeStageOptions(config: Config): StageOptions {
  return {
    concurrency: config.pipeline.sinkConcurrency,
    batching: { maxItems: config.pipeline.storeBatchSize, maxWaitMs: config.pipeline.storeBatchWaitMs },
    queueCapacity: config.pipeline.queueCapacity,
  };
}

/** Stage options of a Kafka producer sink: batches produced at once, each acked by the broker on its own. */
export function producerStageOptions(config: Config): StageOptions {
  return { concurrency: config.kafka.produceConcurrency, queueCapacity: config.pipeline.queueCapacity };
}

/** Stage options of the sentiment transform: one batch per worker thread, batched dynamically. */
export function sentimentStageOptions(config: Config, sentiment: SentimentStage): StageOptions {
  return {
    concurrency: sentiment.threads,
    batching: { maxItems: sentiment.maxBatch, maxWaitMs: sentiment.maxWaitMs },
    queueCapacity: config.pipeline.queueCapacity,
  };
}


export interface SentimentStage {
  readonly transform: SentimentTransform;
  readonly modelId: string;
  readonly modelDir: string;
  readonly threads: number;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
}

/** Loads the model manifest, starts the inference pool, and warms every worker (fails early on a bad model). */
export async function buildSentimentTransform(config: Config, deadLetters: DeadLetterSink): Promise<SentimentStage> {
  const modelDir = resolveModelDir(config.model.name);
  const manifest = await loadManifest(modelDir);
  // Padded encoders (WordPiece) run each batch as length-sorted chunks; bag-of-n-gram feeds are not padded.
  const pool = new SentimentPool(modelDir, config.model.threads, manifest.serving.lengthSortedChunk);
  try {
    await pool.warmUp();
  } catch (e) {
    await pool.close();
    throw new ModelError('CP_MODEL_LOAD', `model ${manifest.id} in ${modelDir} failed to load in a worker: ${(e as Error).message}`, { cause: e });
  }
  const transform = new SentimentTransform(pool, { modelId: manifest.id, labels: manifest.labels, languages: config.model.languages }, deadLetters);
  return {
    transform,
    modelId: manifest.id,
    modelDir,
    threads: pool.threads,
    maxBatch: config.model.maxBatch > 0 ? config.model.maxBatch : manifest.serving.maxBatch,
    maxWaitMs: config.model.maxWaitMs,
  };
}
