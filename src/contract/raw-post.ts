import { z } from 'zod';
import { err, ok, type Result } from './result.js';
import { rejection, type Rejection } from './rejection.js';
import { POST_ID_DIGITS } from './canonical.js';
import { isIsoDateTime, isOptionalString, isPostIdDigits, isRecord } from './fast-checks.js';

/**
 * One X API v2 filtered-stream message (`GET /2/tweets/search/stream`):
 * `{ data: { id, text, ... }, includes?, matching_rules?: [{ id, tag? }] }`.
 * Unknown extra fields are allowed (X adds fields over time) and ignored.
 */
export const matchingRuleSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  tag: z.string().optional(),
});

export const rawPostSchema = z
  .object({
    data: z.looseObject({
      id: z.string().regex(POST_ID_DIGITS, 'must be a decimal post id of 1-19 digits'),
      text: z.string(),
      created_at: z.iso.datetime({ offset: true }).optional(),
      lang: z.string().max(35).optional(),
      author_id: z.string().optional(),
      referenced_tweets: z.array(z.looseObject({ type: z.string(), id: z.string() })).optional(),
      note_tweet: z.looseObject({ text: z.string() }).optional(),
    }),
    includes: z.unknown().optional(),
    matching_rules: z.array(matchingRuleSchema).optional(),
  })
  .loose();

export type RawPost = z.infer<typeof rawPostSchema>;

/**
 * The `tweet.fields` crowdpulse asks X for: exactly what the contract keeps (created_at, lang, the
 * amplification fields, and note_tweet for the full text of a long post). X sends id, text and
 * edit_history_tweet_ids whatever is asked.
 */
export const STREAM_TWEET_FIELDS = ['created_at', 'lang', 'author_id', 'referenced_tweets', 'note_tweet'] as const;

/** The text a post is scored on: a long post's full `note_tweet` text (X truncates `text` to 280 characters), else `text`. */
export const fullTextOf = (data: RawPost['data']): string =>
  data.note_tweet !== undefined && data.note_tweet.text.trim() !== '' ? data.note_tweet.text : data.text;
export type MatchingRule = z.infer<typeof matchingRuleSchema>;

/** Topic given to a post that matched no tagged rule, so that it is still counted and stored. */
export const UNTAGGED_TOPIC = '_untagged';

/** The topic a rule gives the posts it matches: its tag, or `rule:<id>` when it has none. */
export const topicOfRule = (rule: { readonly id: string; readonly tag?: string | undefined }): string =>
  rule.tag !== undefined && rule.tag !== '' ? rule.tag : `rule:${rule.id}`;

/** Topics of a post: the tags of its matching rules (a rule without a tag counts as `rule:<id>`), deduplicated. */
export function topicsOf(rules: readonly MatchingRule[] | undefined): string[] {
  if (!rules || rules.length === 0) return [UNTAGGED_TOPIC];
  const topics = new Set<string>();
  for (const rule of rules) topics.add(topicOfRule(rule));
  return [...topics];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode bytes as strict UTF-8: invalid sequences are a rejection, not replacement characters. */
export function decodeUtf8(bytes: Uint8Array): Result<string, Rejection> {
  try {
    return ok(strictUtf8.decode(bytes));
  } catch {
    return err(rejection('invalid_utf8', 'message bytes are not valid UTF-8'));
  }
}

/**
 * The common case, checked by hand: a message that `rawPostSchema` accepts for certain (the checks
 * are the schema's, field by field). Anything this does not recognise goes through the schema,
 * which accepts or refuses it with its reason; the fast path never accepts what the schema would
 * refuse (test/contract/fast-path.test.ts compares both on every class of input).
 */
function isPlainRawPost(json: unknown): json is RawPost {
  if (!isRecord(json)) return false;
  const data = json.data;
  if (!isRecord(data) || !isPostIdDigits(data.id) || typeof data.text !== 'string') return false;
  if (data.created_at !== undefined && !isIsoDateTime(data.created_at)) return false;
  if (data.lang !== undefined && !(typeof data.lang === 'string' && data.lang.length <= 35)) return false;
  if (!isOptionalString(data.author_id)) return false;
  if (data.referenced_tweets !== undefined) {
    if (!Array.isArray(data.referenced_tweets)) return false;
    for (const ref of data.referenced_tweets as unknown[]) if (!isRecord(ref) || typeof ref.type !== 'string' || typeof ref.id !== 'string') return false;
  }
  if (data.note_tweet !== undefined && !(isRecord(data.note_tweet) && typeof data.note_tweet.text === 'string')) return false;
  const rules = json.matching_rules;
  if (rules !== undefined) {
    if (!Array.isArray(rules)) return false;
    for (const rule of rules as unknown[]) {
      if (!isRecord(rule) || typeof rule.id !== 'string' || !isOptionalString(rule.tag)) return false;
    }
  }
  return true;
}

/** Parse and validate one stream line (already UTF-8 text); `fastPath` false checks by the schema alone. */
export function parseRawPost(line: string, fastPath = true): Result<RawPost, Rejection> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    return err(rejection('invalid_json', `not JSON: ${(e as Error).message}`));
  }
  if (fastPath && isPlainRawPost(json)) {
    if (fullTextOf(json.data).trim() === '') return err(rejection('empty_text', `post ${json.data.id} has empty text`));
    return ok(json);
  }
  if (isStreamErrorPayload(json)) {
    const titles = json.errors.map((e) => (typeof e === 'object' && e !== null && 'title' in e ? String(e.title) : 'error')).join('; ');
    return err(rejection('stream_error_payload', `stream sent an error payload: ${titles}`));
  }
  const parsed = rawPostSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return err(rejection('invalid_shape', `${where}: ${issue?.message ?? 'invalid'}`));
  }
  if (fullTextOf(parsed.data.data).trim() === '') return err(rejection('empty_text', `post ${parsed.data.data.id} has empty text`));
  return ok(parsed.data);
}

/** The stream can carry `{ "errors": [...] }` without `data` (e.g. operational disconnects). */
function isStreamErrorPayload(json: unknown): json is { errors: unknown[] } {
  return typeof json === 'object' && json !== null && !('data' in json) && Array.isArray((json as { errors?: unknown }).errors);
}
