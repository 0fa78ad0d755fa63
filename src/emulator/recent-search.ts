/**
 * `GET /2/tweets/search/recent` and `GET /2/tweets/counts/recent` over the publication timeline.
 *
 * What they see: every post published (history and live, see timeline.ts) in the last 7 days and at
 * least `searchEndLagMs` before the request, matching `query` (the stream's rule language). Live
 * publication only ever publishes posts that matched the stream's rules at the time, so search
 * finds a live post only if a stream rule matched it; history holds every post of the recording.
 * The window is on publication time: start_time inclusive, end_time exclusive; since_id/until_id
 * are exclusive and compare the served id as a decimal number (with 'recorded' timestamps the
 * recorded id: recorded ids that are not decimal never pass them).
 */
import { err, ok, type Result } from '../contract/result.js';
import { matches, parseRule } from '../x/rule-language.js';
import type { RecordedPost } from './recorded-posts.js';
import {
  checkKnown,
  checkSortOrder,
  COUNTS_PARAMS,
  encodeToken,
  GRANULARITY_MS,
  parseGranularity,
  parseMaxResults,
  parseToken,
  parseWindow,
  SEARCH_PARAMS,
  type Parsed,
  type RecentWindow,
} from './recent-params.js';
import { fieldSelection, mergeIncludes, servedData, type Timestamps } from './serve-post.js';
import { snowflakeTime, type Timeline } from './timeline.js';
import { invalidRequest, type XErrorResponse } from './x-errors.js';

/** Buckets per counts page (a day of minutes; hour and day granularity over 7 days fit one page). */
export const COUNTS_PAGE_BUCKETS = 1440;
const MASK_CACHE = 32;

export interface RecentContext {
  readonly posts: readonly RecordedPost[];
  readonly timeline: Timeline;
  readonly timestamps: Timestamps;
  /** Epoch ms of the request (real time, as the timeline). */
  readonly now: number;
  readonly endLagMs: number;
  readonly masks: QueryMasks;
}

/** Which recording posts a query matches (one byte a post), kept for the last few queries. */
export class QueryMasks {
  private readonly cache = new Map<string, Uint8Array>();
  private recordedIds: (bigint | null)[] | undefined;

  constructor(
    private readonly posts: readonly RecordedPost[],
    private readonly maxLength: number,
  ) {}

  get(query: string): Result<Uint8Array, string> {
    const hit = this.cache.get(query);
    if (hit) {
      this.cache.delete(query);
      this.cache.set(query, hit);
      return ok(hit);
    }
    const node = parseRule(query, { maxLength: this.maxLength });
    if (!node.ok) return node;
    const mask = new Uint8Array(this.posts.length);
    for (let i = 0; i < this.posts.length; i++) if (matches(node.value, this.posts[i]!.features)) mask[i] = 1;
    this.cache.set(query, mask);
    if (this.cache.size > MASK_CACHE) this.cache.delete(this.cache.keys().next().value!);
    return ok(mask);
  }

  /** The recorded id of each post as a number; null where it is not decimal. */
  recordedId(index: number): bigint | null {
    this.recordedIds ??= this.posts.map((p) => (typeof p.data.id === 'string' && /^[0-9]{1,19}$/.test(p.data.id) ? BigInt(p.data.id) : null));
    return this.recordedIds[index] ?? null;
  }
}

/** Matching posts of the window as a range of timeline indexes, and a test for the rest. */
interface Selection {
  readonly lo: number;
  readonly hi: number;
  readonly accepts: (abs: number) => boolean;
}

function select(ctx: RecentContext, w: RecentWindow): Parsed<Selection> {
  const mask = ctx.masks.get(w.query);
  if (!mask.ok) {
    const message = mask.error.startsWith('There were errors') ? mask.error : `There were errors processing your request: ${mask.error}`;
    return err(invalidRequest(message, { query: [w.query] }));
  }
  const t = ctx.timeline;
  let lo = t.lowerBound(w.start);
  let hi = t.lowerBound(Math.min(w.end, ctx.now + 1));
  const published = ctx.timestamps === 'published';
  // Snowflakes carry their ms: the id bounds narrow the range before ids are compared.
  if (published && w.sinceId !== undefined) lo = Math.max(lo, t.lowerBound(snowflakeTime(w.sinceId)));
  if (published && w.untilId !== undefined) hi = Math.min(hi, t.lowerBound(snowflakeTime(w.untilId) + 1));
  const m = mask.value;
  const idOf = (abs: number): bigint | null => (published ? BigInt(t.idAt(abs)) : ctx.masks.recordedId(t.indexAt(abs)));
  const byId = w.sinceId !== undefined || w.untilId !== undefined;
  const accepts = (abs: number): boolean => {
    if (m[t.indexAt(abs)] !== 1) return false;
    if (!byId) return true;
    const id = idOf(abs);
    return id !== null && (w.sinceId === undefined || id > w.sinceId) && (w.untilId === undefined || id < w.untilId);
  };
  return ok({ lo, hi, accepts });
}

export interface SearchPage {
  readonly body: Record<string, unknown>;
  /** Posts returned (what the usage cap is charged). */
  readonly served: number;
}

/** One page of search/recent, newest first; at most `capLeft` posts (what is left of the usage cap). */
export function searchRecent(ctx: RecentContext, params: URLSearchParams, capLeft: number): Result<SearchPage, XErrorResponse> {
  const known = checkKnown(params, SEARCH_PARAMS);
  if (!known.ok) return known;
  const w = parseWindow(params, ctx.now, ctx.endLagMs);
  if (!w.ok) return w;
  const max = parseMaxResults(params);
  if (!max.ok) return max;
  const sort = checkSortOrder(params);
  if (!sort.ok) return sort;
  const token = parseToken(params, 's', w.value.query);
  if (!token.ok) return token;
  const sel = select(ctx, w.value);
  if (!sel.ok) return sel;
  const { lo, accepts } = sel.value;
  const hi = token.value === undefined ? sel.value.hi : Math.min(sel.value.hi, token.value);
  const limit = Math.max(0, Math.min(max.value, capLeft));
  const found: number[] = [];
  let more = false;
  for (let abs = hi - 1; abs >= lo; abs--) {
    if (!accepts(abs)) continue;
    if (found.length >= limit) {
      more = true;
      break;
    }
    found.push(abs);
  }
  if (found.length === 0) return ok({ body: { meta: { result_count: 0 } }, served: 0 });
  const fields = fieldSelection(params);
  const t = ctx.timeline;
  const published = ctx.timestamps === 'published';
  const data = found.map((abs) => {
    const post = ctx.posts[t.indexAt(abs)]!;
    return servedData(post, fields, published ? { id: t.idAt(abs), createdAt: new Date(t.timeAt(abs)).toISOString() } : undefined);
  });
  const body: Record<string, unknown> = { data };
  if (fields.expansions) {
    const includes = mergeIncludes(found.map((abs) => ctx.posts[t.indexAt(abs)]!.includes));
    if (includes) body.includes = includes;
  }
  body.meta = {
    newest_id: data[0]!.id,
    oldest_id: data.at(-1)!.id,
    result_count: data.length,
    ...(more ? { next_token: encodeToken('s', found.at(-1)!, w.value.query) } : {}),
  };
  return ok({ body, served: data.length });
}

/**
 * counts/recent: the window cut into buckets at UTC minute, hour or day boundaries, oldest first;
 * the first bucket starts at start_time and the last ends at end_time (partial buckets, as X), so
 * the counts sum to the posts of the window. Pages of {@link COUNTS_PAGE_BUCKETS} buckets.
 */
export function countsRecent(ctx: RecentContext, params: URLSearchParams): Result<Record<string, unknown>, XErrorResponse> {
  const known = checkKnown(params, COUNTS_PARAMS);
  if (!known.ok) return known;
  const w = parseWindow(params, ctx.now, ctx.endLagMs);
  if (!w.ok) return w;
  const granularity = parseGranularity(params);
  if (!granularity.ok) return granularity;
  const width = GRANULARITY_MS[granularity.value];
  const { start, end, query } = w.value;
  const token = parseToken(params, 'c', query);
  if (!token.ok) return token;
  if (token.value !== undefined && (token.value <= start || token.value >= end || token.value % width !== 0))
    return err(
      invalidRequest('The `next_token` query parameter value is not a valid token for this request', { next_token: [params.get('next_token') ?? ''] }),
    );
  const sel = select(ctx, w.value);
  if (!sel.ok) return sel;
  const pageStart = token.value ?? start;
  const aligned = Math.floor(pageStart / width) * width;
  const boundaries: number[] = [pageStart];
  for (let b = aligned + width; b < end && boundaries.length <= COUNTS_PAGE_BUCKETS; b += width) boundaries.push(b);
  const more = boundaries.length > COUNTS_PAGE_BUCKETS;
  const pageEnd = more ? boundaries.pop()! : end;
  boundaries.push(pageEnd);
  const counts = new Array<number>(boundaries.length - 1).fill(0);
  const t = ctx.timeline;
  const { accepts } = sel.value;
  const from = Math.max(sel.value.lo, t.lowerBound(pageStart));
  const to = Math.min(sel.value.hi, t.lowerBound(pageEnd));
  let bucket = 0;
  for (let abs = from; abs < to; abs++) {
    if (!accepts(abs)) continue;
    const time = t.timeAt(abs);
    while (time >= boundaries[bucket + 1]!) bucket++;
    counts[bucket]!++;
  }
  const data = counts.map((n, i) => ({ end: new Date(boundaries[i + 1]!).toISOString(), start: new Date(boundaries[i]!).toISOString(), tweet_count: n }));
  const total = counts.reduce((a, b) => a + b, 0);
  return ok({ data, meta: { total_tweet_count: total, ...(more ? { next_token: encodeToken('c', pageEnd, query) } : {}) } });
}
