/**
 * crowdpulse's errors: one base class with a stable `CP_*` code and a `retriable` flag, and one
 * table of every code with its exit status and meaning. The CLI (src/cli.ts) maps an error to its
 * exit status through this table; the README's "Errors and exit statuses" lists the same codes
 * (test/errors.test.ts keeps the two and the codes used in src/ in step).
 *
 * Exit statuses: 0 = done; 1 = a failure while running (a file, the model, a service, a bug);
 * 2 = the command line or the configuration was refused before anything started (commander's own
 * usage errors, an unknown flag or a missing argument, exit 2 too). A second SIGINT/SIGTERM exits 130
 * without draining.
 */

interface ErrorCodeInfo {
  /** Exit status of the CLI when this error ends a command. */
  readonly exit: 1 | 2;
  /** Whether the same operation may succeed later without changing anything (a service back, a window reset). */
  readonly retriable: boolean;
  /** One line: what went wrong. */
  readonly meaning: string;
}

export const ERROR_CODES = {
  // The command line and the configuration (exit 2).
  CP_USAGE: { exit: 2, retriable: false, meaning: 'a flag or argument is wrong, or the command cannot run with the configured source or sink kind' },
  CP_CONFIG_INVALID: {
    exit: 2,
    retriable: false,
    meaning: 'a config value (file, environment or flag) is refused; the line names the key, the value and where it came from',
  },
  // Files and paths.
  CP_SOURCE_PATH: {
    exit: 1,
    retriable: false,
    meaning: 'a file of posts to read (replay.path, emulate --posts) does not exist, is not a file, cannot be read or holds no posts',
  },
  CP_DEAD_LETTER_PATH: { exit: 1, retriable: false, meaning: 'deadLetter.path cannot be written (a directory, under a file, not permitted)' },
  CP_STORE_OPEN: { exit: 1, retriable: false, meaning: 'the store at sqlite.path cannot be opened' },
  CP_DATASET_INVALID: { exit: 1, retriable: false, meaning: 'a labelled data set for eval is missing or malformed' },
  // The model.
  CP_MODEL_NOT_FOUND: {
    exit: 1,
    retriable: false,
    meaning: 'model.name is no tier (fast, accurate) and no directory holding model.json, or model.json cannot be read',
  },
  CP_MODEL_MANIFEST_INVALID: { exit: 1, retriable: false, meaning: 'model.json is not valid JSON, or its fields are invalid or do not fit the model' },
  CP_MODEL_FILE_MISSING: { exit: 1, retriable: false, meaning: 'a file model.json names (ONNX, tokenizer) is not in the model directory' },
  CP_MODEL_FILE_INVALID: { exit: 1, retriable: false, meaning: 'a tokenizer or normalization file of the model is malformed' },
  CP_MODEL_LOAD: { exit: 1, retriable: false, meaning: 'an inference worker could not load the model' },
  // The pipeline and the HTTP port.
  CP_STAGE_FAILED: { exit: 1, retriable: false, meaning: 'a pipeline stage (source, transform, sink) failed for good; the run stops' },
  CP_QUEUE_CLOSED: { exit: 1, retriable: false, meaning: 'a batch was pushed into a pipeline queue after it was closed' },
  CP_CLOSE_TIMEOUT: {
    exit: 1,
    retriable: true,
    meaning:
      "a component did not close within pipeline.closeTimeoutMs once the role's pipeline ended; the role exits (what was not acked is read again by the next run)",
  },
  CP_HTTP_LISTEN: { exit: 1, retriable: false, meaning: 'the HTTP port (http.host, http.port) cannot be listened on' },
  CP_HTTP_TOKEN: {
    exit: 2,
    retriable: false,
    meaning:
      'http.host is beyond loopback and no HTTP access token is set (CROWDPULSE_HTTP_TOKEN, http.tokenFile), or the token is unreadable or short; HTTP 401 without it',
  },
  // Stores.
  CP_STORE_NOT_READY: { exit: 1, retriable: true, meaning: 'the store cannot be read yet (SQLite: the file appears with the first stored post); HTTP 503' },
  CP_STORE_UNAVAILABLE: { exit: 1, retriable: true, meaning: 'the store could not be read (dashboard API: HTTP 503; run summary: no per-topic table)' },
  CP_ROLLUP: {
    exit: 1,
    retriable: true,
    meaning: 'a store could not roll up windows; they stay marked, queries read them from the rows, and the roller tries again',
  },
  CP_INFLUXDB_SINK_CLOSED: { exit: 1, retriable: true, meaning: 'the InfluxDB sink was closed while a write was pending' },
  CP_INFLUXDB_ROLLUP_MARK: {
    exit: 1,
    retriable: false,
    meaning: "InfluxDB refused a batch's rollup dirty marks (or they still failed after retryMaxTimeMs); the batch fails unacknowledged",
  },
  CP_INFLUXDB_ROLLUP: {
    exit: 1,
    retriable: true,
    meaning: 'the InfluxDB roller could not read or write rollups (logged; the windows stay pending and are rolled on a later tick)',
  },
  CP_SHIFT_WRITE: {
    exit: 1,
    retriable: true,
    meaning: 'detected shifts could not be written to the store; the batch that produced them is retried',
  },
  CP_COVERAGE_WRITE: {
    exit: 1,
    retriable: true,
    meaning: 'coverage events could not be written to the store (logged; kept and written with the next events)',
  },
  // Alerts (logged; they never stop the pipeline).
  CP_ALERT_WEBHOOK_FAILED: {
    exit: 1,
    retriable: false,
    meaning: 'an alert was not delivered to alerts.webhookUrl: refused (3xx, 4xx but 408/429) or still failing after alerts.webhookMaxAttempts',
  },
  CP_ALERT_WEBHOOK_DROPPED: {
    exit: 1,
    retriable: false,
    meaning: 'an alert was dropped unsent: the webhook queue (alerts.webhookQueueCapacity) was full, or the notifier was closing or closed',
  },
  // Kafka.
  CP_KAFKA_CONNECT: { exit: 1, retriable: true, meaning: 'a Kafka client could not connect to kafka.brokers within its timeout' },
  CP_KAFKA_TOPIC: { exit: 1, retriable: false, meaning: 'creating a Kafka topic failed' },
  CP_KAFKA_DELIVERY_FAILED: { exit: 1, retriable: true, meaning: "Kafka messages were refused or not delivered after the producer's retries" },
  CP_KAFKA_RECORD_TOO_LARGE: { exit: 1, retriable: false, meaning: 'a record is larger than limits.maxMessageBytes and there is no dead-letter sink for it' },
  CP_SCHEMA_INCOMPATIBLE: {
    exit: 1,
    retriable: false,
    meaning: "kafka.encoding = confluent-avro: the schema registry finds our schema incompatible with the subject's latest version (at start)",
  },
  CP_SCHEMA_REGISTRY: {
    exit: 1,
    retriable: true,
    meaning: 'kafka.schemaRegistryUrl did not answer within kafka.schemaRegistryRetryMs, or refused a request, while registering our schema (at start)',
  },
  // The X API.
  CP_X_CREDENTIALS: {
    exit: 1,
    retriable: false,
    meaning: 'the X bearer token or the rules-admin token is missing, unreadable or empty, or X rejected it (HTTP 401/403)',
  },
  CP_X_API: { exit: 1, retriable: false, meaning: 'an X API call failed (an error status, or no answer)' },
  CP_X_RATE_LIMITED: { exit: 1, retriable: true, meaning: "an X REST endpoint's rate-limit window is spent for longer than the caller waits" },
  CP_X_BUDGET: { exit: 1, retriable: false, meaning: 'more posts were asked for at once than a whole billing period allows (x.monthlyCap)' },
  CP_X_GOVERNOR_STATE: { exit: 1, retriable: false, meaning: 'the post-budget state file (x.statePath) cannot be read or is corrupt' },
  CP_X_RULES: { exit: 1, retriable: false, meaning: 'a rules file is malformed, or X refused the rules' },
  CP_X_STREAM: { exit: 1, retriable: false, meaning: 'X refused the filtered-stream connection for good (not retried)' },
  // HTTP answers and the rest.
  CP_BAD_REQUEST: { exit: 2, retriable: false, meaning: 'a dashboard API parameter is out of range (HTTP 400)' },
  CP_ABORTED: { exit: 1, retriable: false, meaning: 'an operation was cancelled by a shutdown signal or a timeout' },
  CP_INTERNAL: { exit: 1, retriable: false, meaning: 'an unexpected error: a bug, an incompatible dependency, or an error without a code (HTTP 500)' },
} as const satisfies Record<`CP_${string}`, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A crowdpulse error: `message` is the one line a user sees, `code` is stable, `retriable` comes from ERROR_CODES. */
export class CrowdpulseError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly retriable: boolean;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.retriable = ERROR_CODES[code].retriable;
  }
}

export const isCrowdpulseError = (e: unknown): e is CrowdpulseError => e instanceof CrowdpulseError;

/** The code of `e`: its own for a CrowdpulseError, `fallback` for anything else. */
export function codeOf(e: unknown, fallback: ErrorCode = 'CP_INTERNAL'): ErrorCode {
  return isCrowdpulseError(e) ? e.code : fallback;
}

/** `e` itself when it is a CrowdpulseError; otherwise one with `fallback`, the same message and `e` as its cause. */
export function asCrowdpulseError(e: unknown, fallback: ErrorCode = 'CP_INTERNAL'): CrowdpulseError {
  if (isCrowdpulseError(e)) return e;
  return new CrowdpulseError(fallback, e instanceof Error ? e.message : String(e), { cause: e });
}

/** The CLI's exit status for an error that ended a command: its code's, or 1 for an error without a code. */
export function exitStatus(e: unknown): number {
  return isCrowdpulseError(e) ? ERROR_CODES[e.code].exit : 1;
}

/** The one line the CLI prints for an error: its message on one line, then its code, e.g. `… (CP_CONFIG_INVALID)`. */
export function errorLine(e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim();
  return `${message} (${codeOf(e)})`;
}
