/**
 * What to do with a failed write, decided in one place: retry (with exponential backoff and
 * jitter, honouring Retry-After), split the batch to isolate bad points, or give the posts to the
 * dead-letter sink. Never an endless retry of a refused batch, never a silent drop.
 */
import type { WriteOutcome } from './transport.js';

export type Decision =
  | { readonly action: 'retry'; readonly reason: string; readonly retryAfterMs: number | undefined }
  /** The server refused (some of) the points in the body: bisect down to single posts. */
  | { readonly action: 'split'; readonly reason: string }
  /** The server refuses any write from us (auth, missing bucket): dead-letter the whole batch. */
  | { readonly action: 'dead-letter'; readonly reason: string };

export function decide(outcome: Exclude<WriteOutcome, { kind: 'ok' }>): Decision {
  if (outcome.kind === 'network') return { action: 'retry', reason: `${outcome.code}: ${outcome.message}`, retryAfterMs: undefined };
  const { status, message } = outcome;
  // 408 timeout, 429 rate limit, 5xx (incl. 1.8's 500 "timeout" / cache full, 503 unavailable).
  if (status === 408 || status === 429 || status >= 500) return { action: 'retry', reason: message, retryAfterMs: outcome.retryAfterMs };
  // 400: bad line / field type conflict / partial write; 413: body too large; 422 (2.x): unprocessable.
  if (status === 400 || status === 413 || status === 422) return { action: 'split', reason: message };
  // 401/403 auth, 404 bucket/database not found, anything else: not fixed by retrying.
  return { action: 'dead-letter', reason: message };
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxDelayMs: number;
  readonly retryAfterMaxMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): "equal jitter" exponential backoff,
 * base = min(max, initial·2^(attempt−1)), delay ∈ [base/2, base). A Retry-After from the server
 * (capped) replaces it: we wait that long plus up to 10 % jitter, so that clients that were told
 * the same second do not return together.
 */
export function backoffDelay(attempt: number, retryAfterMs: number | undefined, o: BackoffOptions, random = Math.random): number {
  const base = Math.min(o.maxDelayMs, o.initialMs * 2 ** Math.min(30, attempt - 1));
  const jittered = base / 2 + random() * (base / 2);
  if (retryAfterMs === undefined) return Math.round(jittered);
  const floor = Math.max(o.initialMs / 2, Math.min(o.retryAfterMaxMs, retryAfterMs));
  return Math.round(floor * (1 + 0.1 * random()));
}
