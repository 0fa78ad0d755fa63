/**
 * Post counts per rule from GET /2/tweets/counts/recent (X API v2: the last 7 days; params query,
 * start_time, end_time, granularity = minute | hour | day, next_token; response
 * {data: [{start, end, tweet_count}], meta: {total_tweet_count, next_token?}}), for `rules plan`.
 * The endpoint is rate limited: a 429 waits for x-rate-limit-reset and tries again.
 */
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { CrowdpulseError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { RateLimitedError } from './rest-rate-limits.js';
import type { RuleCount, TimeWindow } from './rules-plan.js';

export type Granularity = 'minute' | 'hour' | 'day';
export const GRANULARITIES: readonly Granularity[] = ['minute', 'hour', 'day'];

const SECOND = 1000;
/** X counts the last 7 days. */
export const MAX_WINDOW_MS = 7 * 86_400_000;
/** X wants end_time at least 10 s before the request; start_time within the last 7 days when the request arrives. */
const END_MARGIN_MS = 30 * SECOND;
const START_MARGIN_MS = 60 * SECOND;
const ENDPOINT = 'GET /2/tweets/counts/recent';

export interface CountsWindow extends TimeWindow {
  /** Whether the requested window was longer than X's 7 days (and was cut to them). */
  readonly clamped: boolean;
}

/** The window to count: `requestedMs` back from just before `now`, at most X's 7 days, on whole seconds. */
export function countsWindow(now: number, requestedMs: number): CountsWindow {
  const end = Math.floor((now - END_MARGIN_MS) / SECOND) * SECOND;
  const earliest = Math.ceil((now - MAX_WINDOW_MS + START_MARGIN_MS) / SECOND) * SECOND;
  const wanted = end - Math.floor(requestedMs / SECOND) * SECOND;
  return { start: Math.max(wanted, earliest), end, clamped: wanted < earliest };
}

interface CountsBody {
  data?: { start: string; end: string; tweet_count: number }[];
  meta?: { total_tweet_count?: number; next_token?: string };
}

export interface CountOptions {
  readonly granularity: Granularity;
  readonly clock?: Clock;
  /** The longest a 429 may make it wait (default 15 min: one rate-limit window). */
  readonly maxWaitMs?: number;
  /** 429s answered in a row before giving up (default 5). */
  readonly maxRateLimited?: number;
}

/** When a 429 says its window resets (ms since the epoch), from the parsed limit or the raw header. */
function resetAt(e: ApiResponseError, now: number): number {
  const header = e.headers?.['x-rate-limit-reset'];
  const seconds = e.rateLimit?.reset ?? Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * SECOND : now + 60 * SECOND;
}

/** Posts matching `query` in `window` (every page). */
export async function countRecent(client: TwitterApi, query: string, window: TimeWindow, options: CountOptions): Promise<number> {
  const clock = options.clock ?? systemClock;
  const maxWaitMs = options.maxWaitMs ?? 15 * 60 * SECOND;
  const maxRateLimited = options.maxRateLimited ?? 5;
  let total = 0;
  let nextToken: string | undefined;
  let limited = 0;
  for (;;) {
    const params: Record<string, string> = {
      query,
      start_time: new Date(window.start).toISOString(),
      end_time: new Date(window.end).toISOString(),
      granularity: options.granularity,
      ...(nextToken !== undefined ? { next_token: nextToken } : {}),
    };
    let body: CountsBody;
    try {
      body = await client.v2.get<CountsBody>('tweets/counts/recent', params);
    } catch (e) {
      if (!(e instanceof ApiResponseError) || e.code !== 429) throw e;
      const at = resetAt(e, clock.now());
      const wait = Math.max(SECOND, at - clock.now() + SECOND);
      if (++limited > maxRateLimited || wait > maxWaitMs) throw new RateLimitedError(ENDPOINT, at);
      await clock.sleep(wait);
      continue;
    }
    limited = 0;
    const counted = body.data?.reduce((a, b) => a + (Number.isFinite(b.tweet_count) ? b.tweet_count : 0), 0);
    total += counted ?? body.meta?.total_tweet_count ?? 0;
    nextToken = body.meta?.next_token;
    if (nextToken === undefined) return total;
  }
}

/**
 * Counts every rule in turn (one at a time: the endpoint's window is shared). A 400 for a rule
 * (X's search refused its query) is a CP_X_API naming the rule; a 401/403 is left to the caller.
 */
export async function countRules(
  client: TwitterApi,
  rules: readonly { readonly value: string; readonly tag: string }[],
  window: TimeWindow,
  options: CountOptions,
): Promise<RuleCount[]> {
  const out: RuleCount[] = [];
  for (const [i, r] of rules.entries()) {
    try {
      out.push({ value: r.value, tag: r.tag, count: await countRecent(client, r.value, window, options) });
    } catch (e) {
      if (e instanceof ApiResponseError && e.code !== 401 && e.code !== 403) {
        const data = e.data as { title?: string; detail?: string; errors?: { message?: string }[] } | undefined;
        const why = data?.errors?.[0]?.message ?? data?.detail ?? data?.title ?? '';
        throw new CrowdpulseError('CP_X_API', `counts for rules.${i} (tag ${r.tag}) "${r.value}": X answered HTTP ${e.code}${why ? `: ${why}` : ''}`, {
          cause: e,
        });
      }
      throw e;
    }
  }
  return out;
}
