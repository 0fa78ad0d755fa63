/**
 * Parameters of `GET /2/tweets/search/recent` and `GET /2/tweets/counts/recent`, validated as X
 * validates them; every refusal is X's 400 invalid-request shape (x-errors.ts) naming the parameter.
 */
import { err, ok, type Result } from '../contract/result.js';
import { RECENT_WINDOW_MS } from './timeline.js';
import { invalidRequest, type XErrorResponse } from './x-errors.js';

export const SEARCH_PARAMS = [
  'query',
  'start_time',
  'end_time',
  'since_id',
  'until_id',
  'max_results',
  'next_token',
  'pagination_token',
  'sort_order',
  'tweet.fields',
  'expansions',
  'user.fields',
  'media.fields',
  'place.fields',
  'poll.fields',
] as const;

export const COUNTS_PARAMS = [
  'query',
  'start_time',
  'end_time',
  'since_id',
  'until_id',
  'granularity',
  'next_token',
  'pagination_token',
  'search_count.fields',
] as const;

export const GRANULARITY_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type Granularity = keyof typeof GRANULARITY_MS;

/** What both endpoints share: the query and the window, on publication time. */
export interface RecentWindow {
  readonly query: string;
  /** Inclusive, epoch ms. */
  readonly start: number;
  /** Exclusive, epoch ms. */
  readonly end: number;
  /** Exclusive bounds on the served id, as decimal numbers. */
  readonly sinceId?: bigint;
  readonly untilId?: bigint;
}

export type Parsed<T> = Result<T, XErrorResponse>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const ID = /^[0-9]{1,19}$/;

const bad = (name: string, value: string, message: string): Parsed<never> => err(invalidRequest(message, { [name]: [value] }));

/** Refuses a parameter the endpoint does not have, as X does. */
export function checkKnown(params: URLSearchParams, known: readonly string[]): Parsed<true> {
  for (const name of params.keys())
    if (!known.includes(name)) return bad(name, params.get(name) ?? '', `The query parameter [${name}] is not one of [${known.join(',')}]`);
  return ok(true);
}

/**
 * The query and the window. X: start_time defaults to 7 days ago and may not be older; end_time
 * defaults to (and must be at least) `endLagMs` before the request; start before end.
 */
export function parseWindow(params: URLSearchParams, now: number, endLagMs: number): Parsed<RecentWindow> {
  const query = params.get('query') ?? '';
  if (query.trim() === '') return bad('query', query, 'The `query` query parameter can not be empty');
  const latestEnd = now - endLagMs;
  const oldest = now - RECENT_WINDOW_MS;
  const startText = params.get('start_time');
  const endText = params.get('end_time');
  const start = startText === null ? oldest : parseTime('start_time', startText);
  if (typeof start !== 'number') return start;
  const end = endText === null ? latestEnd : parseTime('end_time', endText);
  if (typeof end !== 'number') return end;
  if (endText !== null && end > latestEnd)
    return bad(
      'end_time',
      endText,
      `Invalid 'end_time':'${endText}'. 'end_time' must be a minimum of ${Math.ceil(endLagMs / 1000)} seconds prior to the request time.`,
    );
  if (startText !== null && start < oldest)
    return bad('start_time', startText, `Invalid 'start_time':'${startText}'. 'start_time' must be on or after ${new Date(oldest).toISOString()}`);
  if (start >= end)
    return bad(
      startText === null ? 'end_time' : 'start_time',
      startText ?? endText ?? '',
      `Invalid 'start_time':'${new Date(start).toISOString()}'. 'start_time' must be before 'end_time':'${new Date(end).toISOString()}'`,
    );
  const sinceId = parseId(params, 'since_id');
  if (sinceId !== undefined && typeof sinceId !== 'bigint') return sinceId;
  const untilId = parseId(params, 'until_id');
  if (untilId !== undefined && typeof untilId !== 'bigint') return untilId;
  return ok({ query, start, end, ...(sinceId === undefined ? {} : { sinceId }), ...(untilId === undefined ? {} : { untilId }) });
}

function parseTime(name: string, text: string): number | Parsed<never> {
  const ms = RFC3339.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) return bad(name, text, `Invalid '${name}':'${text}'. '${name}' must be a valid RFC3339 date-time (YYYY-MM-DDTHH:mm:ssZ)`);
  return ms;
}

function parseId(params: URLSearchParams, name: string): bigint | undefined | Parsed<never> {
  const text = params.get(name);
  if (text === null) return undefined;
  if (!ID.test(text)) return bad(name, text, `The \`${name}\` query parameter value [${text}] does not match ^[0-9]{1,19}$`);
  return BigInt(text);
}

/** `max_results`: 10–100, default 10. */
export function parseMaxResults(params: URLSearchParams): Parsed<number> {
  const text = params.get('max_results');
  if (text === null) return ok(10);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 10 && n <= 100)) return bad('max_results', text, `The \`max_results\` query parameter value [${text}] is not between 10 and 100`);
  return ok(n);
}

/** `sort_order`: recency (default) or relevancy, which the emulator serves as recency. */
export function checkSortOrder(params: URLSearchParams): Parsed<true> {
  const text = params.get('sort_order');
  if (text !== null && text !== 'recency' && text !== 'relevancy')
    return bad('sort_order', text, `The \`sort_order\` query parameter value [${text}] is not one of [recency,relevancy]`);
  return ok(true);
}

export function parseGranularity(params: URLSearchParams): Parsed<Granularity> {
  const text = params.get('granularity') ?? 'hour';
  if (text !== 'minute' && text !== 'hour' && text !== 'day')
    return bad('granularity', text, `The \`granularity\` query parameter value [${text}] is not one of [minute,hour,day]`);
  return ok(text);
}

/**
 * Pagination tokens: opaque to clients; inside, the endpoint, a position (search: the timeline
 * index the next page starts below; counts: the ms the next page of buckets starts at) and a hash
 * of the query, so that a token of another query or endpoint is refused.
 */
export function encodeToken(kind: 's' | 'c', position: number, query: string): string {
  return Buffer.from(`${kind}.${position.toString(36)}.${hash(query)}`, 'utf8').toString('base64url');
}

/** The position in `next_token` (or `pagination_token`), undefined when absent. */
export function parseToken(params: URLSearchParams, kind: 's' | 'c', query: string): Parsed<number | undefined> {
  const name = params.has('next_token') ? 'next_token' : 'pagination_token';
  const text = params.get(name);
  if (text === null) return ok(undefined);
  const parts = /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8').split('.') : [];
  const position = parts.length === 3 && /^[0-9a-z]+$/.test(parts[1]!) ? parseInt(parts[1]!, 36) : NaN;
  if (parts[0] !== kind || parts[2] !== hash(query) || !Number.isSafeInteger(position))
    return bad(name, text, `The \`${name}\` query parameter value [${text}] is not a valid token for this request`);
  return ok(position);
}

/** FNV-1a, 32 bits, base 36. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
