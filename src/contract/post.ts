import { z } from 'zod';
import { canonicalKeys, canonicalText, POST_ID_DIGITS } from './canonical.js';
import { decodeUtf8, fullTextOf, parseRawPost, topicsOf } from './raw-post.js';
import { err, ok, type Result } from './result.js';
import type { Rejection } from './rejection.js';
import { isIsoDateTime, isNonNegativeSafeInt, isPostIdDigits, isRecord, isStringArray } from './fast-checks.js';
import { amplificationFields, amplificationOf, canonicalAmplification, isPlainAmplification, withAmplification } from './amplification.js';

/**
 * A post as crowdpulse carries it after ingest: what the analyze stage needs, nothing more.
 * Version 1 of the wire contract between ingest and analyze.
 */
export const postSchema = z.object({
  id: z.string().regex(POST_ID_DIGITS),
  text: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true }),
  lang: z.string(),
  topics: z.array(z.string()).min(1),
  ingestedAt: z.number().int().nonnegative(),
  ...amplificationFields,
});
export type Post = z.infer<typeof postSchema>;

/** Language code used when X gives none. */
export const UNKNOWN_LANG = 'und';

/**
 * Bytes of one stream message → a Post, or the reason it was refused.
 * `receivedAt` (epoch ms) stands in for created_at when the message has none.
 */
export function postFromStreamBytes(bytes: Uint8Array, receivedAt: number): Result<Post, Rejection> {
  const text = decodeUtf8(bytes);
  if (!text.ok) return text;
  return postFromStreamLine(text.value, receivedAt);
}

/** `fastPath` false validates by the schema alone (see parseRawPost). */
export function postFromStreamLine(line: string, receivedAt: number, fastPath = true): Result<Post, Rejection> {
  const raw = parseRawPost(line, fastPath);
  if (!raw.ok) return raw;
  const { data, matching_rules } = raw.value;
  return canonicalPost(
    withAmplification(
      {
        id: data.id,
        text: fullTextOf(data),
        createdAt: data.created_at ?? new Date(receivedAt).toISOString(),
        lang: data.lang ?? UNKNOWN_LANG,
        topics: topicsOf(matching_rules),
        ingestedAt: receivedAt,
      },
      amplificationOf(data),
    ),
  );
}

/**
 * The one canonical form of a post, applied at ingest and checked again by every later stage:
 * id without leading zeros (int64), NFC topics within their bounds, well-formed text, a language
 * code, created_at within its bounds (as an ISO instant in UTC), and canonical author and reference ids.
 */
export function canonicalPost(post: Post): Result<Post, Rejection> {
  const keys = canonicalKeys(post);
  if (!keys.ok) return keys;
  const { id, topics, lang, createdAt } = keys.value;
  return ok(withAmplification({ id, text: canonicalText(post.text), createdAt, lang, topics, ingestedAt: post.ingestedAt }, canonicalAmplification(post)));
}

/** A decoded post (analyze and store read them from Kafka); `fastPath` false checks by the schema alone. */
export function validatePost(value: unknown, fastPath = true): Result<Post, Rejection> {
  if (fastPath && isPlainPost(value)) {
    return canonicalPost(value);
  }
  const parsed = postSchema.safeParse(value);
  if (parsed.success) return canonicalPost(parsed.data);
  const issue = parsed.error.issues[0];
  return err({ code: 'invalid_shape', reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` });
}

/** What postSchema accepts for certain, checked by hand (see fast-checks.ts); the rest goes through the schema. */
function isPlainPost(v: unknown): v is Post {
  return (
    isRecord(v) &&
    isPostIdDigits(v.id) &&
    typeof v.text === 'string' &&
    v.text.length > 0 &&
    isIsoDateTime(v.createdAt) &&
    typeof v.lang === 'string' &&
    isStringArray(v.topics) &&
    v.topics.length > 0 &&
    isNonNegativeSafeInt(v.ingestedAt) &&
    isPlainAmplification(v)
  );
}
