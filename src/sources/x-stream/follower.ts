import type { Frame, FramerLimits } from '../line-framer.js';
import type { TwitterApi } from 'twitter-api-v2';
import { logger } from '../../telemetry/log.js';
import { ReconnectBackoff, type DisconnectCause } from '../../x/backoff.js';
import type { Clock } from '../../x/clock.js';
import { rejectedTokenError } from '../../x/credentials.js';
import type { PostBudgetGovernor } from '../../x/governor.js';
import * as m from '../../x/metrics.js';
import { fetchUsage } from '../../x/usage.js';
import { billingPeriod } from '../../x/billing-period.js';
import { runSession, type SessionEnd } from './session.js';
import { CrowdpulseError } from '../../errors.js';
import type { CoverageState } from '../../query/coverage.js';

const log = logger('x.stream');

export interface FollowerOptions {
  readonly client: TwitterApi;
  readonly clock: Clock;
  readonly governor?: PostBudgetGovernor;
  readonly tweetFields: readonly string[];
  readonly keepAliveTimeoutMs: number;
  /** Longest message read whole (limits.maxMessageBytes), and what an oversized one keeps. */
  readonly lineLimits: FramerLimits;
  /** How often to reconcile the governor with GET /2/usage/tweets (0 = never). */
  readonly usageCheckMs: number;
  /** Day of month (UTC) X's usage cap resets (x.capResetDay), when GET /2/usage/tweets does not say. */
  readonly capResetDay?: number;
}

export interface FollowerHooks {
  /** Every non-empty stream message, exactly as received (without the `\r\n`), or an oversized one's summary. */
  onMessage(frame: Frame, receivedAt: number): void;
  /** Backpressure: when false after a chunk, reading pauses until the function given to setResume is called. */
  hasRoom(): boolean;
  setResume(resume: (() => void) | undefined): void;
  onConnectionChange?(connected: boolean): void;
  /** The stream's state for coverage (src/query/coverage.ts): connected, disconnected, paused, capped (until: when the cap resets). */
  onCoverage?(state: CoverageState, detail: string, until?: number): void;
  /**
   * A new connection after an earlier one: [from, to) is the hole between the last byte of the
   * earlier one (post or keep-alive) and this connection, with the cause that ended it.
   */
  onGap?(from: number, to: number, cause: DisconnectCause): void;
}

/** One entry of the connection history (logs, tests). */
export interface ConnectionEvent {
  readonly cause: DisconnectCause;
  readonly detail: string;
  readonly delayMs: number;
  readonly at: number;
}

/**
 * Follows the filtered stream until `signal` aborts: connects, hands every message on, replaces lost
 * connections with X's backoff, and paces the connection to the governor's budget line (disconnect when
 * the line is reached, reconnect when `resumeThreshold` posts have accrued). Every message counts
 * against the budget (X bills what it delivers). Throws on what retrying cannot fix (401/403/400/404).
 */
export async function followStream(opts: FollowerOptions, hooks: FollowerHooks, signal: AbortSignal, history: ConnectionEvent[] = []): Promise<void> {
  const { clock, governor } = opts;
  const backoff = new ReconnectBackoff();
  let lastUsageCheck = Number.NEGATIVE_INFINITY;
  const reconcile = async (force: boolean): Promise<void> => {
    if (!governor || opts.usageCheckMs <= 0) return;
    if (!force && clock.now() - lastUsageCheck < opts.usageCheckMs) return;
    lastUsageCheck = clock.now();
    const usage = await fetchUsage(opts.client);
    if (usage.ok) governor.reconcile(usage.value.projectUsage, usage.value.projectCap);
    else log.warn('could not read GET /2/usage/tweets; keeping the local count', { reason: usage.error });
  };

  let first = true;
  // The last byte (post or keep-alive) of the connection before, and why it ended: a hole starts there.
  let lastDataAt: number | undefined;
  let lastCause: DisconnectCause = 'network';
  while (!signal.aborted) {
    if (governor) {
      await reconcile(false);
      const need = first ? 1 : governor.resumeThreshold();
      if (governor.headroom() < need) {
        const s = governor.snapshot();
        log.info('post budget ahead of its line; stream paused', {
          consumed: s.consumed,
          usable: s.usable,
          headroom: s.headroom,
          resumeInMs: governor.msUntilHeadroom(need),
        });
        hooks.onCoverage?.('paused', `post budget ahead of its line: ${s.consumed} of ${s.usable} used`);
        try {
          await governor.waitForHeadroom(need, signal);
        } catch {
          break;
        }
      }
    }
    first = false;
    const end: SessionEnd = await runSession(
      { client: opts.client, clock, keepAliveTimeoutMs: opts.keepAliveTimeoutMs, tweetFields: opts.tweetFields, lineLimits: opts.lineLimits, signal },
      {
        onMessage: (frame, at) => {
          lastDataAt = at;
          hooks.onMessage(frame, at);
          if (!governor) return 'continue';
          governor.record(1);
          return governor.headroom() <= 0 ? 'stop' : 'continue';
        },
        onKeepAlive: () => {
          lastDataAt = clock.now();
          m.streamMessages.inc({ kind: 'keepalive' });
        },
        onConnected: () => {
          const now = clock.now();
          if (lastDataAt !== undefined && now > lastDataAt) hooks.onGap?.(lastDataAt, now, lastCause);
          lastDataAt = now;
          m.streamConnected.set(1);
          m.usageCapped.set(0);
          m.streamBackoffSeconds.set(0);
          hooks.onConnectionChange?.(true);
          hooks.onCoverage?.('connected', 'connected to the filtered stream');
          log.info('connected to the filtered stream');
        },
        hasRoom: () => hooks.hasRoom(),
        setResume: (r) => hooks.setResume(r),
      },
    );
    m.streamConnected.set(0);
    hooks.onConnectionChange?.(false);
    // A connection that delivered messages counts as a success: X's schedules start over.
    if (end.messages > 0) backoff.reset();
    if (end.cause === 'shutdown') break;
    lastCause = end.cause;
    // X's usage cap holds until the billing period resets: sleep until then, not on the 429 schedule.
    const capResetAt = end.cause === 'usage_cap' ? await usageCapResetAt(opts) : undefined;
    if (capResetAt !== undefined) {
      m.usageCapped.set(1);
      m.usageCapResetAt.set(capResetAt / 1000);
    }
    hooks.onCoverage?.(
      end.cause === 'usage_cap' ? 'capped' : end.cause === 'budget' ? 'paused' : 'disconnected',
      (capResetAt !== undefined
        ? `usage_cap: X's usage cap is spent until ${new Date(capResetAt).toISOString()} (${end.detail})`
        : `${end.cause}: ${end.detail}`
      ).slice(0, 500),
      capResetAt,
    );
    m.streamReconnects.inc({ cause: end.cause });
    if (end.fatal) {
      if (end.status === 401 || end.status === 403) throw rejectedTokenError(end.status, end.detail);
      throw new CrowdpulseError('CP_X_STREAM', `X refused the stream connection (${end.detail}); not retrying`);
    }
    if (end.cause === 'budget') {
      history.push({ cause: end.cause, detail: end.detail, delayMs: 0, at: clock.now() });
      await reconcile(true);
      continue;
    }
    let delay = backoff.next(end.cause, clock.now(), end.resetAt);
    if (capResetAt !== undefined) {
      // X says the period's cap is spent whatever our count says: believe it until the period ends.
      governor?.reconcile(governor.usable);
      delay = Math.max(1, capResetAt - clock.now());
    }
    history.push({ cause: end.cause, detail: end.detail, delayMs: delay, at: clock.now() });
    m.streamBackoffSeconds.set(delay / 1000);
    log.warn('stream connection ended; reconnecting', { cause: end.cause, detail: end.detail, delayMs: delay });
    try {
      await clock.sleep(delay, signal);
    } catch {
      break;
    }
  }
}

/**
 * When X's usage cap resets: the end of the billing period, from the cap reset day X reports in
 * GET /2/usage/tweets, else the configured one (x.capResetDay), else the governor's period.
 */
async function usageCapResetAt(opts: FollowerOptions): Promise<number> {
  const now = opts.clock.now();
  const usage = await fetchUsage(opts.client);
  const reported = usage.ok ? usage.value.capResetDay : undefined;
  if (reported !== undefined && Number.isInteger(reported) && reported >= 1 && reported <= 31) return billingPeriod(now, reported).end;
  if (opts.capResetDay !== undefined) return billingPeriod(now, opts.capResetDay).end;
  return opts.governor ? opts.governor.snapshot().periodEnd : billingPeriod(now, 1).end;
}
