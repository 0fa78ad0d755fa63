import { COVERAGE_HEARTBEAT_MS, type CoverageEvent, type CoverageState } from '../query/coverage.js';
import { logger } from '../telemetry/log.js';

const log = logger('coverage');

/** Where coverage events are stored (a store kind's table or measurement of their own). */
export interface CoverageWriter {
  write(events: readonly CoverageEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** What a source tells about its stream's state; never blocks the source. */
export interface CoverageRecorder {
  /** The stream's state changed now; `until`: when it ends by itself (a spent cap's reset). */
  record(state: CoverageState, detail: string, until?: number): void;
  /** [from, until) was filled after the fact (backfill): every matching post of it was read. */
  recordFill(from: number, until: number, detail: string): void;
  close(): Promise<void>;
}

export const noCoverage: CoverageRecorder = { record: () => undefined, recordFill: () => undefined, close: async () => undefined };

export interface CoverageRecorderOptions {
  readonly now?: () => number;
  /** Events held while the writer is slow or down; the oldest heartbeat goes first, then the oldest event. */
  readonly capacity?: number;
  readonly heartbeatMs?: number;
}

/**
 * Buffers a source's coverage events and writes them in the background, one write at a time:
 * the source never waits on the store. While connected it repeats the state every heartbeat, so
 * that a stream whose ingest died is not read as covered for ever (src/query/coverage.ts). A write
 * that fails keeps the events for the next attempt; past capacity the oldest are dropped, counted
 * in the log.
 */
export class BufferedCoverageRecorder implements CoverageRecorder {
  readonly #writer: CoverageWriter;
  readonly #now: () => number;
  readonly #capacity: number;
  readonly #heartbeatMs: number;
  #pending: CoverageEvent[] = [];
  #writing: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  #dropped = 0;

  constructor(writer: CoverageWriter, options: CoverageRecorderOptions = {}) {
    this.#writer = writer;
    this.#now = options.now ?? Date.now;
    this.#capacity = options.capacity ?? 1000;
    this.#heartbeatMs = options.heartbeatMs ?? COVERAGE_HEARTBEAT_MS;
  }

  record(state: CoverageState, detail: string, until?: number): void {
    if (this.#closed) return;
    this.#push(until === undefined ? { at: this.#now(), state, detail } : { at: this.#now(), state, detail, until });
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    if (state === 'connected') {
      this.#heartbeat = setInterval(() => this.#push({ at: this.#now(), state: 'connected', detail: 'heartbeat' }), this.#heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  recordFill(from: number, until: number, detail: string): void {
    // Not a change of state: the heartbeat of a connected stream goes on.
    if (!this.#closed) this.#push({ at: from, state: 'backfilled', detail, until });
  }

  #push(event: CoverageEvent): void {
    this.#pending.push(event);
    if (this.#pending.length > this.#capacity) {
      const heartbeat = this.#pending.findIndex((e) => e.detail === 'heartbeat');
      this.#pending.splice(heartbeat >= 0 ? heartbeat : 0, 1);
      this.#dropped += 1;
      if (this.#dropped === 1 || this.#dropped % 100 === 0) log.warn('coverage events dropped: the store is not taking them', { dropped: this.#dropped });
    }
    this.#flush();
  }

  #flush(): void {
    if (this.#writing !== undefined || this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    this.#writing = this.#writer.write(events).then(
      () => {
        this.#writing = undefined;
        this.#flush();
      },
      (e: unknown) => {
        // Kept for the next event's write (a heartbeat at the latest): coverage is not worth a retry loop of its own.
        this.#pending = [...events, ...this.#pending].slice(-this.#capacity);
        this.#writing = undefined;
        log.warn('could not store coverage events; keeping them for the next write', { reason: (e as Error).message, events: events.length });
      },
    );
  }

  /** Records `stopped`, writes what is pending (one last try), and closes the writer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.record('stopped', 'ingest closed');
    this.#closed = true;
    clearInterval(this.#heartbeat);
    await this.#writing;
    if (this.#pending.length > 0) {
      const events = this.#pending;
      this.#pending = [];
      await this.#writer
        .write(events)
        .catch((e: unknown) => log.warn('could not store the last coverage events', { reason: (e as Error).message, events: events.length }));
    }
    await this.#writer.close();
  }
}
