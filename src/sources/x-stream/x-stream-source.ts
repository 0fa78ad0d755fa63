import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { deadLetter, oversizedDeadLetter, postFromStreamBytes, type DeadLetter, type Post } from '../../contract/index.js';
import type { Frame, FramerLimits } from '../line-framer.js';
import type { Batch, DeadLetterSink, Source } from '../../pipeline/component.js';
import { logger } from '../../telemetry/log.js';
import type { Clock } from '../../x/clock.js';
import type { PostBudgetGovernor } from '../../x/governor.js';
import * as m from '../../x/metrics.js';
import { rejectedTokenError } from '../../x/credentials.js';
import { RulesError, syncRules, type DesiredRule } from '../../x/rules.js';
import { followStream, type ConnectionEvent } from './follower.js';
import type { CoverageRecorder } from '../../pipeline/coverage-recorder.js';
import type { CoverageState } from '../../query/coverage.js';

const log = logger('x.stream');

export interface XStreamOptions {
  readonly client: TwitterApi;
  readonly clock: Clock;
  readonly deadLetters: DeadLetterSink;
  readonly governor?: PostBudgetGovernor;
  readonly tweetFields: readonly string[];
  readonly keepAliveTimeoutMs: number;
  /** Longest message read whole (limits.maxMessageBytes), and what an oversized one keeps. */
  readonly lineLimits: FramerLimits;
  /** Most posts per batch, and the longest a partial batch waits (real time). */
  readonly batchSize: number;
  readonly batchWaitMs: number;
  /** Posts buffered before the socket is paused (backpressure). */
  readonly bufferCapacity: number;
  /** How often to reconcile the governor with GET /2/usage/tweets (0 = never). */
  readonly usageCheckMs: number;
  /** Stream messages (posts and dead letters) after which the source ends (--limit); 0 = none. */
  readonly limit?: number;
  /** Where the stream's connected/disconnected/paused/capped states go (coverage events in the store). */
  readonly coverage?: CoverageRecorder;
  /** Rules to sync (by diff) before connecting: x.syncRulesOnStart with the rules file. */
  readonly startupRules?: readonly DesiredRule[];
}

/**
 * The X API v2 filtered stream as a Source<Post>: posts carry the tags of their matching rules as topics;
 * malformed lines and in-stream error payloads become dead letters and the stream goes on; connections
 * are replaced with X's backoff; the optional governor paces the connection to the post budget.
 * Posts are acked as soon as the sink has them; the stream has no offsets to commit, so a crash loses
 * what was buffered (at most `bufferCapacity` posts).
 */
export class XStreamSource implements Source<Post> {
  readonly name = 'x-stream';
  readonly stage = 'ingest' as const;
  readonly history: ConnectionEvent[] = [];
  private buffer: Post[] = [];
  private letters: DeadLetter[] = [];
  private wake: (() => void) | undefined;
  private resume: (() => void) | undefined;
  private failure: Error | undefined;
  private finished = false;
  private connected = false;
  private received = 0;
  private stopStream: (() => void) | undefined;

  constructor(private readonly opts: XStreamOptions) {}

  /** Stream messages received (keep-alives aside), each of which became a post or a dead letter. */
  get messagesRead(): number {
    return this.received;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Posts received and not yet handed to the pipeline (bounded by bufferCapacity plus one network chunk). */
  get buffered(): number {
    return this.buffer.length;
  }

  /** True once the source stopped on an error it does not retry (rejected token, bad request). */
  get hasFailed(): boolean {
    return this.failure !== undefined;
  }

  async *batches(outer: AbortSignal): AsyncGenerator<Batch<Post>> {
    // Our own controller too, so that a consumer that stops iterating also ends the connection.
    const stop = new AbortController();
    this.stopStream = () => stop.abort();
    const signal = AbortSignal.any([outer, stop.signal]);
    const hooks = {
      onMessage: (frame: Frame, at: number) => this.onMessage(frame, at),
      hasRoom: () => this.buffer.length + this.letters.length < this.opts.bufferCapacity,
      setResume: (r: (() => void) | undefined) => {
        this.resume = r;
      },
      onConnectionChange: (c: boolean) => {
        this.connected = c;
      },
      onCoverage: (state: CoverageState, detail: string) => this.opts.coverage?.record(state, detail),
    };
    const loop = this.syncStartupRules()
      .then(() => followStream(this.opts, hooks, signal, this.history))
      .then(
        () => {
          this.finished = true;
          this.notify();
        },
        (e: unknown) => {
          this.failure = e as Error;
          this.finished = true;
          this.notify();
        },
      );
    try {
      for (;;) {
        if (this.letters.length > 0) {
          const letters = this.letters;
          this.letters = [];
          await this.opts.deadLetters.write(letters);
          if (this.buffer.length + this.letters.length < this.opts.bufferCapacity) this.resume?.();
        }
        if (this.buffer.length >= this.opts.batchSize || (this.buffer.length > 0 && (this.finished || signal.aborted))) {
          yield this.take();
          continue;
        }
        if (this.finished) break;
        if (this.buffer.length > 0) {
          await this.waitFor(this.opts.batchWaitMs);
          if (this.buffer.length > 0) yield this.take();
        } else {
          await this.waitFor(undefined);
        }
      }
      if (this.failure) throw this.failure;
    } finally {
      stop.abort();
      await loop;
      // The count must survive the restart even if the role never calls close().
      this.opts.governor?.flush();
    }
  }

  private async syncStartupRules(): Promise<void> {
    if (!this.opts.startupRules) return;
    let r;
    try {
      r = await syncRules(this.opts.client, this.opts.startupRules);
    } catch (e) {
      if (e instanceof ApiResponseError && (e.code === 401 || e.code === 403))
        throw rejectedTokenError(e.code, (e.data as { detail?: string } | undefined)?.detail);
      throw new RulesError(`syncing the stream rules failed: ${(e as Error).message}`, { cause: e });
    }
    if (!r.ok) throw r.error;
    const { add, remove, keep } = r.value.diff;
    log.info('stream rules synced from the rules file', { added: add.length, removed: remove.length, kept: keep.length });
  }

  async close(): Promise<void> {
    this.opts.governor?.flush();
    await this.opts.coverage?.close();
  }

  private take(): Batch<Post> {
    const items = this.buffer.splice(0, this.opts.batchSize);
    if (this.buffer.length + this.letters.length < this.opts.bufferCapacity) this.resume?.();
    return { items, ack: () => undefined };
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private waitFor(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const t =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              this.wake = undefined;
              resolve();
            }, ms);
      this.wake = () => {
        if (t) clearTimeout(t);
        resolve();
      };
    });
  }

  private onMessage(frame: Frame, receivedAt: number): void {
    // Past the limit (messages of the chunk that held the last one): not read, as if never sent.
    const limit = this.opts.limit ?? 0;
    if (limit > 0 && this.received >= limit) return;
    this.received += 1;
    if (limit > 0 && this.received >= limit) queueMicrotask(() => this.stopStream?.());
    if (frame.kind === 'oversized') {
      m.streamMessages.inc({ kind: 'malformed' });
      this.letters.push(oversizedDeadLetter('ingest', frame.message, this.opts.lineLimits.maxLineBytes, 'x-stream'));
      this.notify();
      return;
    }
    const bytes = frame.bytes;
    const post = postFromStreamBytes(bytes, receivedAt);
    if (post.ok) {
      m.streamMessages.inc({ kind: 'post' });
      this.buffer.push(post.value);
    } else {
      // The contract tells X's in-stream error payloads (stream_error_payload) from malformed lines.
      const kind = post.error.code === 'stream_error_payload' ? 'error_payload' : 'malformed';
      m.streamMessages.inc({ kind });
      if (kind === 'error_payload') log.warn('X sent an error in the stream', { detail: post.error.reason });
      this.letters.push(deadLetter('ingest', post.error.code, post.error.reason, Buffer.from(bytes), 'x-stream'));
    }
    // Wake the consumer on the first post (it starts the batch wait), on a full batch, and for dead letters.
    if (this.buffer.length === 1 || this.buffer.length >= this.opts.batchSize || this.letters.length > 0) this.notify();
  }
}
