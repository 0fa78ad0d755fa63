import { parseRetryAfter } from '../pipeline/retry-after.js';
/**
 * What to do after one webhook request, decided in one place: done, retry (exponential backoff
 * with full jitter, honouring Retry-After), or give up. A refusal (3xx, 4xx but 408/429) is never
 * retried; a timeout, a network error, 408, 429 and 5xx are, up to the attempt limit.
 */

/** How one request ended. Never an exception: the notifier turns every failure into one of these. */
export type AttemptResult =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'http'; readonly status: number; readonly retryAfterMs: number | undefined; readonly body: string }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'network'; readonly code: string; readonly message: string }
  /** Cut by close() past its drain bound: neither a delivery nor a failure of the receiver. */
  | { readonly kind: 'aborted' };

export type Decision =
  | { readonly action: 'delivered' }
  | { readonly action: 'retry'; readonly reason: string; readonly retryAfterMs: number | undefined }
  | { readonly action: 'give-up'; readonly reason: string }
  | { readonly action: 'aborted' };

export function decide(result: AttemptResult): Decision {
  switch (result.kind) {
    case 'ok':
      return { action: 'delivered' };
    case 'aborted':
      return { action: 'aborted' };
    case 'timeout':
      return { action: 'retry', reason: `no answer within ${result.timeoutMs} ms`, retryAfterMs: undefined };
    case 'network':
      return { action: 'retry', reason: `${result.code}: ${result.message}`, retryAfterMs: undefined };
    case 'http': {
      const reason = `HTTP ${result.status}${result.body ? `: ${result.body}` : ''}`;
      if (result.status === 408 || result.status === 429 || result.status >= 500) return { action: 'retry', reason, retryAfterMs: result.retryAfterMs };
      return { action: 'give-up', reason };
    }
  }
}

/** The `result` label of crowdpulse_alert_webhook_attempts_total. */
export function attemptLabel(result: AttemptResult): string {
  return result.kind === 'http' ? `http_${result.status}` : result.kind;
}

export { parseRetryAfter };

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxDelayMs: number;
}

/**
 * Wait before retry number `retry` (1 = after the first attempt): full jitter, uniform in
 * [0, min(max, initial·2^(retry−1))). A Retry-After is honoured as a lower bound, capped at
 * `maxDelayMs` so that a receiver cannot park the queue for hours.
 */
export function backoffDelay(retry: number, retryAfterMs: number | undefined, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxDelayMs, o.initialMs * 2 ** Math.min(30, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.min(o.maxDelayMs, Math.max(retryAfterMs, jittered));
}
