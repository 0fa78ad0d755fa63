import type { Config } from '../config/schema.js';
import type { Post, Result, ScoredPost } from '../contract/index.js';
import type { SentimentQuery } from '../query/sentiment-query.js';
import type { ReadinessCheck } from '../telemetry/health.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import type { DeadLetterSink, Sink, Source } from './component.js';
import type { CoverageRecorder, CoverageWriter } from './coverage-recorder.js';
import type { ShiftWriter } from './shift-writer.js';

/** What a component is built with besides its own config section. */
export interface BuildContext {
  /** Where it sends what it refuses. */
  readonly deadLetters: DeadLetterSink;
  /** Adds a check to the role's /readyz (the runner's registry; components keep no global state). */
  readonly readiness: (name: string, check: ReadinessCheck) => void;
  /** Where a stream source records its coverage (connected, disconnected, paused, capped); none = not recorded. */
  readonly coverage?: CoverageRecorder;
}

/**
 * A kind of store (sink.kind): the part of the config it reads, its sink, the query the summary
 * and the dashboard read it back with, and its name in words. A new store is one folder that
 * exports one of these, plus one line in the table of src/roles/components.ts.
 */
export interface StoreKind<S> {
  section(config: Config): S;
  build(section: S, ctx: BuildContext): Result<Sink<ScoredPost>, Error>;
  query(section: S): Result<SentimentQuery, Error>;
  /** Where coverage events of the stream go in this store (a table or measurement of their own). */
  coverage(section: S): Result<CoverageWriter, Error>;
  /** Where detected shifts go in this store. */
  shifts(section: S): Result<ShiftWriter, Error>;
  describe(section: S): string;
}

/** A kind of post source (source.kind): the part of the config it reads, the source, and the routes it mounts. */
export interface SourceKind<S> {
  section(config: Config): S;
  build(section: S, ctx: BuildContext): Result<Source<Post>, Error>;
  /** Routes the role mounts on its HTTP port for this source (e.g. the X rules admin API). */
  routes?(section: S): Result<RouteHandler[], Error>;
}
