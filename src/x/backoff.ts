/**
 * Why a stream connection ended or was refused. The cause picks the backoff schedule X documents
 * (developer docs, "Handling disconnections"):
 * - network (TCP/IP errors, stalls, server-closed connections): linear, +250 ms per attempt, up to 16 s;
 * - http (5xx and other retryable HTTP errors): exponential from 5 s, doubling, up to 320 s;
 * - rate_limit / too_many_connections (429): exponential from 1 minute, doubling (capped at 16 min here),
 *   and never before x-rate-limit-reset.
 */
export type DisconnectCause =
  'network' | 'stall' | 'closed_by_server' | 'error_payload' | 'http' | 'rate_limit' | 'too_many_connections' | 'usage_cap' | 'budget' | 'shutdown';

type Schedule = 'linear' | 'exponential' | 'rate_limit';

const SCHEDULE: Record<DisconnectCause, Schedule | undefined> = {
  network: 'linear',
  stall: 'linear',
  closed_by_server: 'linear',
  error_payload: 'linear',
  http: 'exponential',
  rate_limit: 'rate_limit',
  too_many_connections: 'rate_limit',
  usage_cap: 'rate_limit',
  budget: undefined,
  shutdown: undefined,
};

export const LINEAR_STEP_MS = 250;
export const LINEAR_MAX_MS = 16_000;
export const HTTP_START_MS = 5_000;
export const HTTP_MAX_MS = 320_000;
export const RATE_LIMIT_START_MS = 60_000;
export const RATE_LIMIT_MAX_MS = 16 * 60_000;

export class ReconnectBackoff {
  private attempts: Record<Schedule, number> = { linear: 0, exponential: 0, rate_limit: 0 };

  /**
   * Delay before the next attempt after `cause`. `resetAt` (epoch ms, from x-rate-limit-reset) is a
   * lower bound for 429s.
   */
  next(cause: DisconnectCause, now: number, resetAt?: number): number {
    const schedule = SCHEDULE[cause];
    if (!schedule) return 0;
    const n = ++this.attempts[schedule];
    switch (schedule) {
      case 'linear':
        return Math.min(LINEAR_MAX_MS, LINEAR_STEP_MS * n);
      case 'exponential':
        return Math.min(HTTP_MAX_MS, HTTP_START_MS * 2 ** (n - 1));
      case 'rate_limit': {
        const exp = Math.min(RATE_LIMIT_MAX_MS, RATE_LIMIT_START_MS * 2 ** (n - 1));
        return resetAt !== undefined && resetAt > now ? Math.max(exp, resetAt - now) : exp;
      }
    }
  }

  /** After a connection that delivered data: X's schedules start over. */
  reset(): void {
    this.attempts = { linear: 0, exponential: 0, rate_limit: 0 };
  }
}
