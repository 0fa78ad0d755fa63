import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { deadLetter, oversizedDeadLetter, postFromStreamBytes, postFromStreamLine, type DeadLetter, type Post } from '../../contract/index.js';
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
import { Backfiller } from './backfill.js';
import { RecentIds } from './recent-ids.js';
import { TopicPauser } from './topic-pauser.js';

/** Stream post ids remembered for backfill's deduplication (a hole is filled within minutes; this is hours at X's rates). */
const RECENT_IDS = 200_000;

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
  /** Day of month (UTC) X's usage cap resets, when GET /2/usage/tweets does not say (x.capResetDay). */
  readonly capResetDay?: number;
  /** Stream messages (posts and dead letters) after which the source ends (--limit); 0 = none. */
  readonly limit?: number;
  /** Where the stream's connected/disconnected/paused/capped states go (coverage events in the store). */
  readonly coverage?: CoverageRecorder;
  /** Rules to sync (by diff) before connecting: x.syncRulesOnStart with the rules file. */
  readonly startupRules?: readonly DesiredRule[];
  /** Fill the stream's holes from recent search (x.backfill); undefined = off. */
  readonly backfill?: { readonly marginMs: number; readonly delayMs: number; readonly maxPending: number };
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
  private readonly seen = new RecentIds(RECENT_IDS);
  private roomWaiters: (() => void)[] = [];
  /** Fills the holes the stream leaves (x.backfill). */
  readonly backfiller: Backfiller | undefined;
  /** Takes the rules of a topic over its budget off the stream (budgets: in the rules file). */
  readonly topicPauser: TopicPauser | undefined;

  constructor(private readonly opts: XStreamOptions) {
    this.backfiller = opts.backfill
      ? new Backfiller({
          client: opts.client,
          clock: opts.clock,
          tweetFields: opts.tweetFields,
          ...opts.backfill,
          ...(opts.governor ? { governor: opts.governor } : {}),
          ...(opts.coverage ? { coverage: opts.coverage } : {}),
          delivered: (id) => this.seen.has(id),
          deliver: (lines, signal) => this.acceptBackfilled(lines, signal),
        })
      : undefined;
    this.topicPauser = opts.governor && opts.governor.budgetedTopics.length > 0 ? new TopicPauser(opts.client, opts.governor) : undefined;
  }

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
      onCoverage: (state: CoverageState, detail: string, until?: number) => this.opts.coverage?.record(state, detail, until),
      onGap: (from: number, to: number, cause: string) => this.backfiller?.enqueue({ from, to, cause }),
    };
    const budgetChecks = this.topicPauser ? setInterval(() => this.topicPauser?.check(), 5000) : undefined;
    budgetChecks?.unref();
    const loop = this.syncStartupRules()
      .then(() => Promise.all([followStream(this.opts, hooks, signal, this.history), this.backfiller?.run(signal)]))
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
      clearInterval(budgetChecks);
      for (const w of this.roomWaiters.splice(0)) w();
      await loop;
      await this.topicPauser
        ?.restore()
        .catch((e: unknown) =>
          log.warn('could not put the rules of paused topics back on the stream', { reason: (e as Error).message, topics: this.topicPauser?.paused }),
        );
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
    if (this.buffer.length + this.letters.length < this.opts.bufferCapacity) {
      this.resume?.();
      for (const w of this.roomWaiters.splice(0)) w();
    }
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

  /**
   * Posts backfill read from recent search, as stream messages: waits for room in the buffer (the
   * same bound as the stream's), then parses them by the same contract; one that fails it is a dead
   * letter of origin x-search. They count towards --limit like stream messages.
   */
  private async acceptBackfilled(lines: readonly string[], signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.buffer.length + this.letters.length >= this.opts.bufferCapacity) {
      await new Promise<void>((resolve) => {
        this.roomWaiters.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    const limit = this.opts.limit ?? 0;
    const now = this.opts.clock.now();
    for (const line of lines) {
      if (signal.aborted || (limit > 0 && this.received >= limit)) return;
      this.received += 1;
      if (limit > 0 && this.received >= limit) queueMicrotask(() => this.stopStream?.());
      const post = postFromStreamLine(line, now);
      if (post.ok) {
        this.buffer.push(post.value);
      } else {
        this.letters.push(deadLetter('ingest', post.error.code, post.error.reason, Buffer.from(line, 'utf8'), 'x-search'));
      }
    }
    this.notify();
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
      this.seen.add(post.value.id);
      if (this.topicPauser) {
        this.opts.governor?.recordTopics(post.value.topics);
        this.topicPauser.check();
      }
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
