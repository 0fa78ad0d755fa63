/**
 * How a recorded post is served (stream and search alike): `tweet.fields` filtering, long posts as
 * X serves them (note_tweet), and, with 'published' timestamps, the id and created_at of its
 * publication instead of the recorded ones.
 */
import type { RecordedPost } from './recorded-posts.js';

/** Fields X returns whatever `tweet.fields` says. */
const DEFAULT_FIELDS = new Set(['id', 'text', 'edit_history_tweet_ids']);
/** X's `text` of a long post: its first 280 characters (code points). */
export const TEXT_MAX_CODE_POINTS = 280;
/**
 * X's longest post (note_tweet) is 25,000 characters. A recorded text longer than that is nothing
 * X could serve as a note: it is served as recorded (the oversized-line tests rely on it).
 */
export const NOTE_MAX_CODE_POINTS = 25_000;

export type Timestamps = 'recorded' | 'published';

export interface FieldSelection {
  readonly tweet: ReadonlySet<string>;
  readonly expansions: boolean;
}

/** The publication identity of a served post ('published' timestamps). */
export interface Stamp {
  readonly id: string;
  readonly createdAt: string;
}

export function fieldSelection(params: URLSearchParams): FieldSelection {
  const fields = params.get('tweet.fields');
  return { tweet: new Set(fields ? fields.split(',').filter(Boolean) : []), expansions: params.has('expansions') };
}

const longTexts = new WeakMap<RecordedPost, { text: string; full: string } | null>();

/** The truncated text and the full text of a recorded long post without a note_tweet; null otherwise. */
function longText(post: RecordedPost): { text: string; full: string } | null {
  let cached = longTexts.get(post);
  if (cached !== undefined) return cached;
  cached = null;
  const text = post.data.text;
  if (typeof text === 'string' && text.length > TEXT_MAX_CODE_POINTS && post.data.note_tweet === undefined) {
    const points = Array.from(text);
    if (points.length > TEXT_MAX_CODE_POINTS && points.length <= NOTE_MAX_CODE_POINTS)
      cached = { text: points.slice(0, TEXT_MAX_CODE_POINTS).join(''), full: text };
  }
  longTexts.set(post, cached);
  return cached;
}

/** `data` of a served post. */
export function servedData(post: RecordedPost, fields: FieldSelection, stamp?: Stamp): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(post.data)) if (DEFAULT_FIELDS.has(k) || fields.tweet.has(k)) data[k] = v;
  const long = longText(post);
  if (long) {
    data.text = long.text;
    if (fields.tweet.has('note_tweet')) data.note_tweet = { text: long.full };
  }
  if (stamp) {
    data.id = stamp.id;
    if (fields.tweet.has('created_at')) data.created_at = stamp.createdAt;
    data.edit_history_tweet_ids = [stamp.id];
  } else if (data.edit_history_tweet_ids === undefined) data.edit_history_tweet_ids = [post.data.id];
  return data;
}

/** One `includes` for a page of posts: each kind's objects once (by id, or media_key). */
export function mergeIncludes(all: readonly unknown[]): Record<string, unknown[]> | undefined {
  const out: Record<string, unknown[]> = {};
  const seen = new Map<string, Set<string>>();
  for (const inc of all) {
    if (typeof inc !== 'object' || inc === null) continue;
    for (const [kind, list] of Object.entries(inc as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      const keys = seen.get(kind) ?? new Set<string>();
      seen.set(kind, keys);
      for (const item of list as unknown[]) {
        const o = item as { id?: unknown; media_key?: unknown };
        const key = typeof o?.id === 'string' ? o.id : typeof o?.media_key === 'string' ? o.media_key : JSON.stringify(item);
        if (keys.has(key)) continue;
        keys.add(key);
        (out[kind] ??= []).push(item);
      }
    }
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
