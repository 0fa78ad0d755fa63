/**
 * The InfluxDB sink: scored posts → points → batched, gzipped write requests, with a bounded buffer,
 * bounded requests in flight, retries with backoff, bisection of refused batches and dead letters.
 *
 * `write(items)` resolves only when every point of `items` is acknowledged by the server or its
 * post is durable in the dead-letter sink. While InfluxDB is unreachable it retries (by default
 * until the server is back), so `write` does not resolve: the runner's bounded queues fill and
 * the source stops being read — backpressure — and memory stays bounded.
 *
 * Rollups (rollup.ts): once a batch's points are durable the sink writes a dirty mark per (topic,
 * hour window) it touched, before `write` resolves; a mark that cannot be written fails or retries
 * the batch as a post write would (never acknowledged without it). The roller, when given, is told.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { deadLetter, type DeadLetter, type ScoredPost } from '../../contract/index.js';
import type { DeadLetterSink, Sink } from '../../pipeline/component.js';
import { CrowdpulseError } from '../../errors.js';
import { opinionWindowOf } from '../../query/amplification.js';
import { logger } from '../../telemetry/log.js';
import type { BatchEncoder, EncodedBatch } from './encoder.js';
import { pointsOf } from './line-protocol.js';
import {
  influxBatchBytes,
  influxBatchPoints,
  influxBufferCapacity,
  influxBufferPoints,
  influxDeadLetteredPoints,
  influxEncodeSeconds,
  influxPointsWritten,
  influxRetries,
  influxSplits,
  influxWriteSeconds,
} from './metrics.js';
import { backoffDelay, decide, type BackoffOptions } from './retry.js';
import type { Roller } from './roller.js';
import { encodeMarks, pairKey } from './rollup.js';
import type { InfluxHttp } from './transport.js';

const log = logger('influxdb-sink');

export interface InfluxSinkOptions extends BackoffOptions {
  readonly batchSize: number;
  readonly maxBufferPoints: number;
  readonly maxInFlight: number;
  /** The posts' measurement: marks go to `<measurement>_rollup_dirty`. */
  readonly measurement: string;
  /** Give up on a retryable failure after this long and dead-letter the batch; 0 = never (backpressure). */
  readonly retryMaxTimeMs: number;
}

/** Counting semaphore with FIFO waiters. */
class Budget {
  #free: number;
  readonly #waiters: { n: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  constructor(readonly capacity: number) {
    this.#free = capacity;
  }
  get used(): number {
    return this.capacity - this.#free;
  }
  acquire(n: number): Promise<void> {
    if (this.#waiters.length === 0 && this.#free >= n) {
      this.#free -= n;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiters.push({ n, resolve, reject }));
  }
  /** Rejects every waiter (the sink is closing). */
  failWaiters(e: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(e);
  }
  release(n: number): void {
    this.#free += n;
    while (this.#waiters.length > 0 && this.#free >= (this.#waiters[0] as { n: number }).n) {
      const w = this.#waiters.shift() as { n: number; resolve: () => void; reject: (e: Error) => void };
      this.#free -= w.n;
      w.resolve();
    }
  }
}

export class SinkClosedError extends CrowdpulseError<'CP_INFLUXDB_SINK_CLOSED'> {
  constructor() {
    super('CP_INFLUXDB_SINK_CLOSED', 'influxdb sink closed while a write was pending');
  }
}

export class InfluxSink implements Sink<ScoredPost> {
  readonly name = 'influxdb';
  readonly stage = 'store' as const;
  readonly #buffer: Budget;
  readonly #inFlight: Budget;
  readonly #closing = new AbortController();
  #outageSince: number | undefined;
  /** Marks are written one request at a time, with strictly increasing `touched` values (rollup.ts). */
  #marking: Promise<void> = Promise.resolve();
  #lastTouched = 0;

  constructor(
    private readonly http: InfluxHttp,
    private readonly encoder: BatchEncoder,
    private readonly deadLetters: DeadLetterSink,
    private readonly o: InfluxSinkOptions,
    private readonly roller?: Roller,
  ) {
    this.#buffer = new Budget(o.maxBufferPoints);
    this.#inFlight = new Budget(o.maxInFlight);
    influxBufferCapacity.set(o.maxBufferPoints);
    influxBufferPoints.set(0);
  }

  /** Points accepted and not yet durable. */
  get bufferedPoints(): number {
    return this.#buffer.used;
  }

  async write(items: readonly ScoredPost[]): Promise<void> {
    if (this.#closing.signal.aborted) throw new SinkClosedError();
    if (items.length === 0) return;
    let points = 0;
    for (const p of items) points += pointsOf(p);
    // A write larger than the whole buffer takes all of it (and waits until it is empty).
    const held = Math.min(Math.max(1, points), this.#buffer.capacity);
    await this.#buffer.acquire(held);
    influxBufferPoints.set(this.#buffer.used);
    try {
      await Promise.all(this.#chunks(items).map((chunk) => this.#writeChunk(chunk)));
    } finally {
      this.#buffer.release(held);
      influxBufferPoints.set(this.#buffer.used);
    }
  }

  /** Consecutive posts, at most batchSize points per chunk (a post's points stay together). */
  #chunks(items: readonly ScoredPost[]): ScoredPost[][] {
    const chunks: ScoredPost[][] = [];
    let current: ScoredPost[] = [];
    let n = 0;
    for (const p of items) {
      const k = pointsOf(p);
      if (current.length > 0 && n + k > this.o.batchSize) {
        chunks.push(current);
        current = [];
        n = 0;
      }
      current.push(p);
      n += k;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  async #writeChunk(posts: readonly ScoredPost[]): Promise<void> {
    await this.#inFlight.acquire(1);
    try {
      await this.#encodeAndSend(posts);
    } finally {
      this.#inFlight.release(1);
    }
  }

  async #encode(posts: readonly ScoredPost[]): Promise<EncodedBatch> {
    const end = influxEncodeSeconds.startTimer({ encoder: this.encoder.kind });
    try {
      return await this.encoder.encode(posts);
    } finally {
      end();
    }
  }

  async #encodeAndSend(posts: readonly ScoredPost[]): Promise<void> {
    const encoded = await this.#encode(posts);
    let sendable: readonly ScoredPost[] = posts;
    if (encoded.rejected.length > 0) {
      const bad = new Set(encoded.rejected.map((r) => r.index));
      await this.#deadLetter(
        encoded.rejected.map((r) => ({ post: posts[r.index] as ScoredPost, reason: r.reason })),
        'unencodable',
      );
      sendable = posts.filter((_, i) => !bad.has(i));
    }
    if (encoded.points === 0) return;
    await this.#send(sendable, encoded);
  }

  async #send(posts: readonly ScoredPost[], encoded: EncodedBatch): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (this.#closing.signal.aborted) throw new SinkClosedError();
      const end = influxWriteSeconds.startTimer();
      const outcome = await this.http.write(encoded.body, encoded.gzip, this.#closing.signal).catch((e: unknown) => {
        if (this.#closing.signal.aborted) throw new SinkClosedError();
        throw e;
      });
      if (outcome.kind === 'ok') {
        end({ outcome: 'ok' });
        influxPointsWritten.inc(encoded.points);
        influxBatchPoints.observe(encoded.points);
        influxBatchBytes.observe(encoded.body.byteLength);
        if (this.#outageSince !== undefined) {
          log.info('writes succeed again', { afterSeconds: ((Date.now() - this.#outageSince) / 1000).toFixed(1) });
          this.#outageSince = undefined;
        }
        await this.#mark(posts);
        return;
      }
      const decision = decide(outcome);
      if (decision.action === 'split') {
        end({ outcome: 'split' });
        if (posts.length === 1) {
          await this.#deadLetter([{ post: posts[0] as ScoredPost, reason: `InfluxDB refused the point(s): ${decision.reason}` }], 'refused');
          return;
        }
        // Bisect. Safe to resend: a partial write's accepted points are overwritten by themselves.
        influxSplits.inc();
        const mid = Math.ceil(posts.length / 2);
        await this.#encodeAndSend(posts.slice(0, mid));
        await this.#encodeAndSend(posts.slice(mid));
        return;
      }
      if (decision.action === 'dead-letter') {
        end({ outcome: 'dead_letter' });
        log.error('InfluxDB refuses writes; dead-lettering the batch', { reason: decision.reason, posts: posts.length });
        await this.#deadLetter(
          posts.map((post) => ({ post, reason: `InfluxDB refused the write: ${decision.reason}` })),
          'unauthorized',
        );
        return;
      }
      end({ outcome: 'retry' });
      influxRetries.inc({ reason: outcome.kind === 'network' ? 'network' : `http_${outcome.status}` });
      const delay = backoffDelay(attempt, decision.retryAfterMs, this.o);
      if (this.o.retryMaxTimeMs > 0 && Date.now() + delay - started > this.o.retryMaxTimeMs) {
        await this.#deadLetter(
          posts.map((post) => ({ post, reason: `gave up after ${attempt} attempts in ${Date.now() - started} ms: ${decision.reason}` })),
          'gave_up',
        );
        return;
      }
      if (this.#outageSince === undefined) {
        this.#outageSince = Date.now();
        log.warn('write failed; retrying with backoff (the pipeline waits)', { reason: decision.reason });
      } else {
        log.debug('retrying write', { attempt, delayMs: delay, reason: decision.reason });
      }
      try {
        await sleep(delay, undefined, { signal: this.#closing.signal });
      } catch {
        throw new SinkClosedError();
      }
    }
  }

  /** The dirty marks of durable posts: one per (topic, window), written in turn with the others. */
  #mark(posts: readonly ScoredPost[]): Promise<void> {
    const pairs = new Map<string, { topic: string; window: number }>();
    for (const p of posts) {
      const window = opinionWindowOf(Date.parse(p.createdAt));
      for (const topic of p.topics) pairs.set(pairKey(window, topic), { topic, window });
    }
    const run = this.#marking.then(() => this.#sendMarks(pairs));
    this.#marking = run.catch(() => undefined);
    return run;
  }

  async #sendMarks(pairs: ReadonlyMap<string, { topic: string; window: number }>): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (this.#closing.signal.aborted) throw new SinkClosedError();
      const touched = Math.max(Date.now(), this.#lastTouched + 1);
      this.#lastTouched = touched;
      const body = Buffer.from(encodeMarks(pairs.values(), touched, this.o), 'utf8');
      const outcome = await this.http.write(body, false, this.#closing.signal).catch((e: unknown) => {
        if (this.#closing.signal.aborted) throw new SinkClosedError();
        throw e;
      });
      if (outcome.kind === 'ok') {
        this.roller?.marked(pairs.values(), touched);
        return;
      }
      const decision = decide(outcome);
      const delay = decision.action === 'retry' ? backoffDelay(attempt, decision.retryAfterMs, this.o) : 0;
      if (decision.action !== 'retry' || (this.o.retryMaxTimeMs > 0 && Date.now() + delay - started > this.o.retryMaxTimeMs))
        throw new CrowdpulseError('CP_INFLUXDB_ROLLUP_MARK', `rollup dirty marks not written (${attempt} attempts): ${decision.reason}`);
      influxRetries.inc({ reason: outcome.kind === 'network' ? 'network' : `http_${outcome.status}` });
      log.debug('retrying rollup marks', { attempt, delayMs: delay, reason: decision.reason });
      try {
        await sleep(delay, undefined, { signal: this.#closing.signal });
      } catch {
        throw new SinkClosedError();
      }
    }
  }

  async #deadLetter(failures: readonly { post: ScoredPost; reason: string }[], reason: string): Promise<void> {
    if (failures.length === 0) return;
    const origin = `influxdb ${this.http.endpoint.bucket}`;
    const letters: DeadLetter[] = failures.map((f) => deadLetter('store', 'sink_rejected', f.reason, JSON.stringify(f.post), origin));
    await this.deadLetters.write(letters);
    let points = 0;
    for (const f of failures) points += pointsOf(f.post);
    influxDeadLetteredPoints.inc({ reason }, points);
  }

  /**
   * Abandons pending retries (their writes reject: not durable), lets the roller roll what is pending
   * (within rollupCloseMs), then releases the encoder and connections.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#buffer.failWaiters(new SinkClosedError());
    this.#inFlight.failWaiters(new SinkClosedError());
    await this.roller?.close();
    await this.encoder.close();
    await this.http.close();
  }
}
