import { existsSync } from 'node:fs';
import { err, ok, type Post, type Result, type ScoredPost } from '../contract/index.js';
import type { Config } from '../config/schema.js';
import { CrowdpulseError } from '../errors.js';
import { ModelError } from '../model/errors.js';
import type { DeadLetterSink, Sink, Source } from '../pipeline/component.js';
import type { BuildContext, SourceKind, StoreKind } from '../pipeline/kinds.js';
import type { StageOptions } from '../pipeline/runner.js';
import { BufferedCoverageRecorder, type CoverageRecorder, type CoverageWriter } from '../pipeline/coverage-recorder.js';
import { logger } from '../telemetry/log.js';
import type { ShiftWriter } from '../pipeline/shift-writer.js';
import type { ShiftEvent } from '../query/shift-event.js';
import { ShiftDetector } from '../shifts/detector.js';
import { alertNotifierOf } from '../alerts/webhook.js';
import { ShiftTapSink } from '../sinks/shift-tap/shift-tap-sink.js';
import { loadManifest, resolveModelDir } from '../model/registry.js';
import type { SentimentQuery } from '../query/sentiment-query.js';
import { CountingDeadLetterSink } from '../sinks/dead-letter/counting-dead-letter-sink.js';
import { FileDeadLetterSink } from '../sinks/dead-letter/file-dead-letter-sink.js';
import { influxStoreKind } from '../sinks/influxdb/index.js';
import { sqliteStoreKind } from '../sinks/sqlite/kind.js';
import { replaySourceKind } from '../sources/replay/kind.js';
import { xSourceKind } from '../sources/x-stream/index.js';
import { registerReadiness } from '../telemetry/health.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { SentimentPool } from '../transforms/sentiment/sentiment-pool.js';
import { SentimentTransform } from '../transforms/sentiment/sentiment-transform.js';
import { TopicTerms } from '../model/topic-terms.js';
import { loadRulesFile } from '../x/rules.js';
import { topicTermsOfRules } from '../x/rule-terms.js';

const log = logger('components');

/**
 * Component kinds by their config value. A role picks from these tables, explicitly: a new store or
 * source is one folder exporting its kind, plus one line here (no registration by side-effect
 * imports). Each kind reads only its part of the config.
 */
const STORES: Readonly<Record<string, (config: Config) => BoundStore>> = {
  sqlite: (config) => bindStore(sqliteStoreKind, config),
  influxdb: (config) => bindStore(influxStoreKind, config),
};

const SOURCES: Readonly<Record<string, (config: Config) => BoundSource>> = {
  replay: (config) => bindSource(replaySourceKind, config),
  x: (config) => bindSource(xSourceKind, config),
};

/** What every component of a role is built with: the role's dead letters and its readiness checks. */
const contextOf = (deadLetters: DeadLetterSink): BuildContext => ({ deadLetters, readiness: registerReadiness });

/** The store kind of sink.kind, bound to its section; an error for a kind that is no store (kafka). */
function storeOf(config: Config): Result<BoundStore, Error> {
  const kind = config.sink.kind;
  const bound = Object.hasOwn(STORES, kind) ? STORES[kind] : undefined;
  return bound ? ok(bound(config)) : err(new CrowdpulseError('CP_USAGE', `sink.kind "${kind}" is not available in this role`));
}

interface BoundStore {
  build(ctx: BuildContext): Result<Sink<ScoredPost>, Error>;
  query(): Result<SentimentQuery, Error>;
  coverage(): Result<CoverageWriter, Error>;
  shifts(): Result<ShiftWriter, Error>;
  describe(): string;
}

function bindStore<S>(kind: StoreKind<S>, config: Config): BoundStore {
  const section = kind.section(config);
  return {
    build: (ctx) => kind.build(section, ctx),
    query: () => kind.query(section),
    coverage: () => kind.coverage(section),
    shifts: () => kind.shifts(section),
    describe: () => kind.describe(section),
  };
}

interface BoundSource {
  build(ctx: BuildContext): Result<Source<Post>, Error>;
  routes(): Result<RouteHandler[], Error>;
}

function bindSource<S>(kind: SourceKind<S>, config: Config): BoundSource {
  const section = kind.section(config);
  return { build: (ctx) => kind.build(section, ctx), routes: () => (kind.routes ? kind.routes(section) : ok([])) };
}

function sourceOf(config: Config): Result<BoundSource, Error> {
  const kind = config.source.kind;
  const bound = Object.hasOwn(SOURCES, kind) ? SOURCES[kind] : undefined;
  return bound ? ok(bound(config)) : err(new CrowdpulseError('CP_USAGE', `source.kind "${kind}" is not available in this role`));
}

/** The embedded topology's dead-letter file, checked before anything starts (a bad path is one line, not a crash). */
export async function buildDeadLetterSink(config: Config): Promise<Result<CountingDeadLetterSink, Error>> {
  const file = await FileDeadLetterSink.open(config.deadLetter.path);
  return file.ok ? ok(new CountingDeadLetterSink(file.value)) : file;
}

export function buildSource(config: Config, deadLetters: DeadLetterSink): Result<Source<Post>, Error> {
  const source = sourceOf(config);
  if (!source.ok) return source;
  const coverage = buildCoverageRecorder(config);
  if (!coverage.ok) return coverage;
  return source.value.build({ ...contextOf(deadLetters), ...(coverage.value ? { coverage: coverage.value } : {}) });
}

/**
 * The recorder of the stream's coverage events (source.kind = x only: a replay has no stream to be
 * down), writing to the store x.coverageStore names; undefined when not recorded.
 */
function buildCoverageRecorder(config: Config): Result<CoverageRecorder | undefined, Error> {
  if (config.source.kind !== 'x' || config.x.coverageStore === 'none') return ok(undefined);
  const kind = config.x.coverageStore === 'sink' ? config.sink.kind : config.x.coverageStore;
  const bound = Object.hasOwn(STORES, kind) ? STORES[kind] : undefined;
  if (!bound) {
    log.warn('stream coverage is not recorded: sink.kind is no store; set x.coverageStore = influxdb or sqlite', { sinkKind: config.sink.kind });
    return ok(undefined);
  }
  const writer = bound(config).coverage();
  return writer.ok ? ok(new BufferedCoverageRecorder(writer.value)) : writer;
}

/** Routes the configured source mounts on the role's HTTP port (the X rules admin API, when a token is configured). */
export function buildIngestRoutes(config: Config): Result<RouteHandler[], Error> {
  const source = sourceOf(config);
  return source.ok ? source.value.routes() : ok([]);
}

/**
 * The store sink of sink.kind, with shift detection as alerts.shifts says: in the store stage
 * (store), instead of storing posts (only), or not at all (off).
 */
export function buildSink(config: Config, deadLetters: DeadLetterSink): Result<Sink<ScoredPost>, Error> {
  const store = storeOf(config);
  if (!store.ok) return store;
  const mode = config.alerts.shifts;
  let inner: Sink<ScoredPost> | undefined;
  if (mode !== 'only') {
    const built = store.value.build(contextOf(deadLetters));
    if (!built.ok || mode === 'off') return built;
    inner = built.value;
  }
  const writer = store.value.shifts();
  if (!writer.ok) return writer;
  return ok(
    new ShiftTapSink(inner, {
      detector: new ShiftDetector({ maxTopics: config.alerts.shiftMaxTopics }),
      writer: writer.value,
      notifier: alertNotifierOf<ShiftEvent>(config.alerts, 'sentiment_shift', (e) => `${e.topic}:${e.kind}:${e.detectedAt}`),
      latenessMs: config.alerts.shiftLatenessSeconds * 1000,
      drainMs: config.pipeline.drainTimeoutMs,
      unsupportedLanguages: config.alerts.shiftUnsupportedLanguages,
    }),
  );
}

/** Where the stored sentiment is, in words, for summaries. */
export function describeStore(config: Config): string {
  const store = storeOf(config);
  return store.ok ? store.value.describe() : config.sink.kind;
}

export function buildQuery(config: Config): Result<SentimentQuery, Error> {
  const store = storeOf(config);
  return store.ok ? store.value.query() : err(new CrowdpulseError('CP_USAGE', `no query for sink.kind "${config.sink.kind}"`));
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

/**
 * Topic-fair scoring's terms: each topic's own name, plus its rules' terms when the rules file is
 * there. A rules file that is there but malformed stops the start (CP_X_RULES), as it would for ingest.
 */
function topicTermsOf(rulesFile: string): TopicTerms {
  if (!existsSync(rulesFile)) {
    log.info('topic-fair scoring: masking each topic by its name only (no rules file)', { rulesFile });
    return new TopicTerms();
  }
  const rules = loadRulesFile(rulesFile);
  if (!rules.ok) throw rules.error;
  const terms = new TopicTerms(topicTermsOfRules(rules.value));
  log.info("topic-fair scoring: masking each topic by its name and its rules' terms", { rulesFile, topics: terms.ruleTopics });
  return terms;
}

/**
 * Loads the model manifest, starts the inference pool, and warms every worker (fails early on a bad
 * model). `topicTerms`: topic-fair scoring's terms instead of those of x.rulesFile (eval's invariance
 * suite); unused when model.topicFair is off.
 */
export async function buildSentimentTransform(config: Config, deadLetters: DeadLetterSink, topicTerms?: TopicTerms): Promise<SentimentStage> {
  const modelDir = resolveModelDir(config.model.name);
  const manifest = await loadManifest(modelDir);
  // Topic-fair scoring: the workers mask each post's topic terms before they score it.
  const terms = config.model.topicFair ? (topicTerms ?? topicTermsOf(config.x.rulesFile)) : undefined;
  // Padded encoders (WordPiece) run each batch as chunks of similar token counts; bag-of-n-gram feeds are not padded.
  const pool = new SentimentPool(modelDir, config.model.threads, {
    chunking: { maxChunk: manifest.serving.lengthSortedChunk, maxPaddingShare: manifest.serving.maxPaddingShare },
    ...(terms ? { topicTerms: terms } : {}),
    nice: config.model.workerNice,
  });
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
