import type { TwitterApi } from 'twitter-api-v2';
import { deadLetter, postFromStreamBytes, type DeadLetter, type Post } from '../../contract/index.js';
import type { Batch, DeadLetterSink, Source } from '../../pipeline/component.js';
import { postsTotal } from '../../telemetry/metrics.js';
import { logger } from '../../telemetry/log.js';
import { ReconnectBackoff, type DisconnectCause } from '../../x/backoff.js';
import type { Clock } from '../../x/clock.js';
import { rejectedTokenError } from '../../x/credentials.js';
import type { PostBudgetGovernor } from '../../x/governor.js';
import { fetchUsage } from '../../x/usage.js';
import * as m from '../../x/metrics.js';
import { runSession, type SessionEnd } from './session.js';

const log = logger('x.stream');

export interface XStreamOptions {
  readonly client: TwitterApi;
  readonly clock: Clock;
  readonly deadLetters: DeadLetterSink;
  readonly governor?: PostBudgetGovernor;
  readonly tweetFields: readonly string[];
  readonly keepAliveTimeoutMs: number;
  /** Most posts per batch, and the longest a partial batch waits (real time). */
  readonly batchSize: number;
  readonly batchWaitMs: number;
  /** Posts buffered before the socket is paused (backpressure). */
  readonly bufferCapacity: number;
  /** How often to reconcile the governor with GET /2/usage/tweets (0 = never). */
  readonly usageCheckMs: number;
}

/** One entry of the reconnect history (tests and logs). */
export interface ConnectionEvent {
  readonly cause: DisconnectCause;
  readonly detail: string;
  readonly delayMs: number;
  readonly at: number;
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
  readonly history: ConnectionEvent[] = [];
  private buffer: Post[] = [];
  private letters: DeadLetter[] = [];
  private wake: (() => void) | undefined;
  private resume: (() => void) | undefined;
  private failure: Error | undefined;
  private finished = false;
  private lastUsageCheck = Number.NEGATIVE_INFINITY;
  private connected = false;

  constructor(private readonly opts: XStreamOptions) {}

  get isConnected(): boolean {
    return this.connected;
  }

  /** True once the source stopped on an error it does not retry (rejected token, bad request). */
  get hasFailed(): boolean {
    return this.failure !== undefined;
  }

  async *batches(signal: AbortSignal): AsyncGenerator<Batch<Post>> {
    const loop = this.connectLoop(signal).then(
      () => { this.finished = true; this.notify(); },
      (e: unknown) => { this.failure = e as Error; this.finished = true; this.notify(); },
    );
    try {
      for (;;) {
        if (this.letters.length > 0) {
          const letters = this.letters;
          this.letters = [];
          await this.opts.deadLetters.write(letters);
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
      await loop;
    }
  }

  async close(): Promise<void> {
    this.opts.governor?.flush();
  }

  private take(): Batch<Post> {
    const items = this.buffer.splice(0, this.opts.batchSize);
    postsTotal.inc({ stage: 'ingest', direction: 'out' }, items.length);
    if (this.buffer.length < this.opts.bufferCapacity) this.resume?.();
    return { items, ack: () => undefined };
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private waitFor(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = ms === undefined ? undefined : setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { if (t) clearTimeout(t); resolve(); };
    });
  }

  private onMessage(bytes: Buffer, receivedAt: number): 'continue' | 'stop' {
    postsTotal.inc({ stage: 'ingest', direction: 'in' });
    const post = postFromStreamBytes(bytes, receivedAt);
    if (post.ok) {
      m.streamMessages.inc({ kind: 'post' });
      this.buffer.push(post.value);
      this.opts.governor?.record(1);
    } else {
      // The contract tells X's in-stream error payloads (stream_error_payload) from malformed lines.
      const kind = post.error.code === 'stream_error_payload' ? 'error_payload' : 'malformed';
      m.streamMessages.inc({ kind });
      if (kind === 'error_payload') log.warn('X sent an error in the stream', { detail: post.error.reason });
      this.letters.push(deadLetter('ingest', post.error.code, post.error.reason, Buffer.from(bytes), 'x-stream'));
    }
    if (this.buffer.length >= this.opts.batchSize || this.letters.length > 0) this.notify();
    const g = this.opts.governor;
    return g && g.headroom() <= 0 ? 'stop' : 'continue';
  }

  private async reconcileUsage(force: boolean): Promise<void> {
    const g = this.opts.governor;
    if (!g || this.opts.usageCheckMs <= 0) return;
    const now = this.opts.clock.now();
    if (!force && now - this.lastUsageCheck < this.opts.usageCheckMs) return;
    this.lastUsageCheck = now;
    const usage = await fetchUsage(this.opts.client);
    if (usage.ok) g.reconcile(usage.value.projectUsage, usage.value.projectCap);
    else log.warn('could not read GET /2/usage/tweets; keeping the local count', { reason: usage.error });
  }

  private async connectLoop(signal: AbortSignal): Promise<void> {
    const { clock, governor } = this.opts;
    const backoff = new ReconnectBackoff();
    let first = true;
    while (!signal.aborted) {
      if (governor) {
        await this.reconcileUsage(false);
        const need = first ? 1 : governor.resumeThreshold();
        if (governor.headroom() < need) {
          const wait = governor.msUntilHeadroom(need);
          log.info('post budget ahead of its line; stream paused', { ...budgetFields(governor), resumeInMs: wait });
          try {
            await governor.waitForHeadroom(need, signal);
          } catch {
            break;
          }
        }
      }
      first = false;
      const end: SessionEnd = await runSession(
        { client: this.opts.client, clock, keepAliveTimeoutMs: this.opts.keepAliveTimeoutMs, tweetFields: this.opts.tweetFields, signal },
        {
          onMessage: (bytes, at) => this.onMessage(bytes, at),
          onKeepAlive: () => m.streamMessages.inc({ kind: 'keepalive' }),
          onConnected: () => {
            this.connected = true;
            m.streamConnected.set(1);
            m.streamBackoffSeconds.set(0);
            log.info('connected to the filtered stream');
          },
          hasRoom: () => this.buffer.length < this.opts.bufferCapacity,
          setResume: (r) => { this.resume = r; },
        },
      );
      this.connected = false;
      // A connection that delivered messages counts as a success: X's schedules start over.
      if (end.messages > 0) backoff.reset();
      m.streamConnected.set(0);
      if (end.cause === 'shutdown') break;
      m.streamReconnects.inc({ cause: end.cause });
      if (end.fatal) {
        if (end.status === 401 || end.status === 403) throw rejectedTokenError(end.status, end.detail);
        throw new Error(`X refused the stream connection (${end.detail}); not retrying`);
      }
      if (end.cause === 'budget') {
        this.history.push({ cause: end.cause, detail: end.detail, delayMs: 0, at: clock.now() });
        await this.reconcileUsage(true).catch(() => undefined);
        continue;
      }
      let delay = backoff.next(end.cause, clock.now(), end.resetAt);
      if (end.cause === 'usage_cap' && governor) delay = Math.max(delay, governor.snapshot().periodEnd - clock.now());
      this.history.push({ cause: end.cause, detail: end.detail, delayMs: delay, at: clock.now() });
      m.streamBackoffSeconds.set(delay / 1000);
      log.warn('stream connection ended; reconnecting', { cause: end.cause, detail: end.detail, delayMs: delay });
      try {
        await clock.sleep(delay, signal);
      } catch {
        break;
      }
    }
  }
}

function budgetFields(g: PostBudgetGovernor): Record<string, unknown> {
  const s = g.snapshot();
  return { consumed: s.consumed, usable: s.usable, headroom: s.headroom, periodEnd: new Date(s.periodEnd).toISOString() };
}

