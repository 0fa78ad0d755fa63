import type { Readable } from 'node:stream';
import { ApiRequestError, ApiPartialResponseError, ApiResponseError, ETwitterStreamEvent, type TwitterApi, type TweetStream } from 'twitter-api-v2';
import type { Clock } from '../../x/clock.js';
import type { DisconnectCause } from '../../x/backoff.js';
import { LineFramer, type Frame, type FramerLimits } from '../line-framer.js';
import { CrowdpulseError } from '../../errors.js';

/** How one connection ended. `fatal` errors are not retried (bad token, bad request). */
export interface SessionEnd {
  readonly cause: DisconnectCause;
  readonly detail: string;
  /** HTTP status when X refused the connection. */
  readonly status?: number;
  /** Epoch ms from x-rate-limit-reset, when X sent it. */
  readonly resetAt?: number;
  readonly fatal?: boolean;
  /** Frames (posts or keep-alives) received on this connection. */
  readonly frames: number;
  readonly messages: number;
}

export interface SessionHooks {
  /** A non-empty message (or an oversized one's summary). Return 'stop' to end the connection now (e.g. budget spent). */
  onMessage(frame: Frame, receivedAt: number): 'continue' | 'stop';
  onKeepAlive(): void;
  onConnected(): void;
  /** Whether the consumer has room; when false the socket is paused (TCP backpressure) until `resume` is called. */
  readonly hasRoom: () => boolean;
  /** Registers the function to call when room frees up again. */
  readonly setResume: (resume: (() => void) | undefined) => void;
}

export interface SessionOptions {
  readonly client: TwitterApi;
  readonly clock: Clock;
  readonly keepAliveTimeoutMs: number;
  readonly tweetFields: readonly string[];
  /** Longest message read whole (limits.maxMessageBytes), and what an oversized one keeps. */
  readonly lineLimits: FramerLimits;
  readonly signal: AbortSignal;
}

/** Turns what twitter-api-v2 threw at connect time into a cause. */
export function classifyConnectError(e: unknown): Omit<SessionEnd, 'frames' | 'messages'> {
  if (e instanceof ApiResponseError) {
    const status = e.code;
    const data = (e.data ?? {}) as { title?: string; detail?: string; connection_issue?: string };
    const detail = `HTTP ${status}${data.title ? ` ${data.title}` : ''}${data.detail ? `: ${data.detail}` : ''}`;
    // x-rate-limit-reset matters only when the window is spent (a TooManyConnections 429 still has requests left).
    const resetAt = e.rateLimit && e.rateLimit.remaining === 0 && e.rateLimit.reset ? e.rateLimit.reset * 1000 : undefined;
    const withReset = <T extends object>(o: T): T & { resetAt?: number } => (resetAt === undefined ? o : { ...o, resetAt });
    if (status === 429) {
      if (data.connection_issue === 'TooManyConnections') return withReset({ cause: 'too_many_connections', detail, status });
      if (data.title === 'UsageCapExceeded') return withReset({ cause: 'usage_cap', detail, status });
      return withReset({ cause: 'rate_limit', detail, status });
    }
    if (status === 400 || status === 401 || status === 403 || status === 404) return { cause: 'http', detail, status, fatal: true };
    return withReset({ cause: 'http', detail, status });
  }
  if (e instanceof ApiRequestError) return { cause: 'network', detail: `request failed: ${(e.requestError as Error | undefined)?.message ?? e.message}` };
  if (e instanceof ApiPartialResponseError)
    return { cause: 'network', detail: `response cut: ${(e.responseError as Error | undefined)?.message ?? e.message}` };
  return { cause: 'network', detail: (e as Error | undefined)?.message ?? String(e) };
}

/**
 * One connection to GET /2/tweets/search/stream through twitter-api-v2 (auth, URL plugin, HTTP errors
 * with their rate-limit headers), with crowdpulse's own framing on the response bytes and a keep-alive
 * watchdog on the injected clock. Resolves when the connection is over, with why.
 */
export async function runSession(opts: SessionOptions, hooks: SessionHooks): Promise<SessionEnd> {
  const { client, clock, signal } = opts;
  if (signal.aborted) return { cause: 'shutdown', detail: 'shutdown before connect', frames: 0, messages: 0 };
  const stream: TweetStream = client.v2.searchStream({ autoConnect: false, 'tweet.fields': opts.tweetFields as never });
  // A shutdown while connecting ends the wait: the abort listener of the open connection (below) is
  // added after connect, and an abort before it would never fire (the role hung until SIGKILL).
  const connecting = stream.connect({ autoReconnect: false, keepAliveTimeout: 'disable' });
  let stopWaiting!: () => void;
  const shutdown = new Promise<'shutdown'>((resolve) => (stopWaiting = () => resolve('shutdown')));
  signal.addEventListener('abort', stopWaiting, { once: true });
  try {
    if ((await Promise.race([connecting.then(() => 'connected' as const), shutdown])) === 'shutdown') {
      // Its outcome no longer matters; destroy() makes it reject.
      connecting.catch(() => undefined);
      stream.destroy();
      return { cause: 'shutdown', detail: 'shutdown while connecting', frames: 0, messages: 0 };
    }
  } catch (e) {
    stream.destroy();
    return { ...classifyConnectError(e), frames: 0, messages: 0 };
  } finally {
    signal.removeEventListener('abort', stopWaiting);
  }
  // twitter-api-v2 parses chunks as strings (splitting UTF-8 characters at chunk edges) and drops the bytes
  // of lines it cannot parse; crowdpulse frames the raw response itself. `res` is the library's (decompressed) body.
  const res = (stream as unknown as { res?: Readable }).res;
  if (!res || typeof res.on !== 'function') {
    stream.destroy();
    throw new CrowdpulseError(
      'CP_INTERNAL',
      'twitter-api-v2 internals changed: TweetStream.res is not a readable stream; crowdpulse needs a compatible version (1.29)',
    );
  }
  res.removeAllListeners('data');

  return await new Promise<SessionEnd>((resolve) => {
    let frames = 0;
    let messages = 0;
    let done = false;
    let ended = false;
    let cancelWatchdog: (() => void) | undefined;
    const framer = new LineFramer(opts.lineLimits);

    const finish = (cause: DisconnectCause, detail: string): void => {
      if (done) return;
      done = true;
      cancelWatchdog?.();
      hooks.setResume(undefined);
      signal.removeEventListener('abort', onAbort);
      stream.removeAllListeners();
      stream.close();
      resolve({ cause, detail, frames, messages });
    };
    const armWatchdog = (): void => {
      cancelWatchdog?.();
      cancelWatchdog = clock.timer(opts.keepAliveTimeoutMs, () => finish('stall', `no data or keep-alive for ${opts.keepAliveTimeoutMs} ms`));
    };
    const onAbort = (): void => finish('shutdown', 'shutdown');
    signal.addEventListener('abort', onAbort, { once: true });

    const resume = (): void => {
      if (done || !res.isPaused()) return;
      res.resume();
      armWatchdog();
    };
    hooks.setResume(resume);

    res.on('data', (chunk: Buffer) => {
      if (done) return;
      armWatchdog();
      let stop = false;
      framer.push(chunk, (frame) => {
        if (done) return;
        frames++;
        if (frame.kind === 'line' && frame.bytes.length === 0) {
          hooks.onKeepAlive();
          return;
        }
        messages++;
        // Messages already received are paid for: the rest of this chunk is still handed on before stopping.
        if (hooks.onMessage(frame, clock.now()) === 'stop') stop = true;
      });
      if (stop) finish('budget', 'post budget reached the budget line');
      if (!done && !hooks.hasRoom()) {
        // Backpressure: stop reading; X keeps the connection while its buffer lasts. No watchdog while we hold back.
        res.pause();
        cancelWatchdog?.();
      }
    });
    res.on('end', () => {
      ended = true;
    });
    stream.on(ETwitterStreamEvent.ConnectionError, (e: Error) => {
      finish(ended ? 'closed_by_server' : 'network', ended ? 'X closed the stream' : `connection error: ${e.message}`);
    });
    stream.on(ETwitterStreamEvent.ConnectionClosed, () => finish(ended ? 'closed_by_server' : 'network', 'connection closed'));
    hooks.onConnected();
    armWatchdog();
  });
}
