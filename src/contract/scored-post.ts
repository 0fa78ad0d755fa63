import { z } from 'zod';
import { err, ok, type Result } from './result.js';
import type { Rejection } from './rejection.js';
import { canonicalKeys, POST_ID_DIGITS } from './canonical.js';
import { isIsoDateTime, isNonNegativeSafeInt, isNumberIn, isPostIdDigits, isRecord, isStringArray } from './fast-checks.js';
import { amplificationFields, canonicalAmplification, isPlainAmplification, withAmplification, type Amplification } from './amplification.js';

export const LABELS = ['negative', 'neutral', 'positive'] as const;
export type Label = (typeof LABELS)[number];

export const probabilitiesSchema = z.object({
  neg: z.number().min(0).max(1),
  neu: z.number().min(0).max(1),
  pos: z.number().min(0).max(1),
});
export type Probabilities = z.infer<typeof probabilitiesSchema>;

/**
 * A scored post: the analyze stage's output and the store's input. Version 1 of that wire contract.
 * `score` = P(pos) − P(neg) ∈ [-1, 1]. Stage timestamps are epoch milliseconds.
 */
export const scoredPostSchema = z.object({
  id: z.string().regex(POST_ID_DIGITS),
  createdAt: z.iso.datetime({ offset: true }),
  topics: z.array(z.string()).min(1),
  lang: z.string(),
  label: z.enum(LABELS),
  probs: probabilitiesSchema,
  score: z.number().min(-1).max(1),
  model: z.string().min(1),
  flags: z.array(z.string()),
  ingestedAt: z.number().int().nonnegative(),
  analyzedAt: z.number().int().nonnegative(),
  ...amplificationFields,
});
export type ScoredPost = z.infer<typeof scoredPostSchema>;

/** Flag set on posts whose language the model was not trained on: scored, but marked. */
export const FLAG_NON_ENGLISH = 'non_english';

/** Label of the largest probability (ties → the earlier label: negative, neutral, positive). */
export function labelOf(p: Probabilities): Label {
  if (p.neg >= p.neu && p.neg >= p.pos) return 'negative';
  if (p.neu >= p.pos) return 'neutral';
  return 'positive';
}

export const scoreOf = (p: Probabilities): number => Math.max(-1, Math.min(1, p.pos - p.neg));

/** The scored form of a post: label and score follow from the probabilities, the post's own fields carry over. */
export function scoredPostOf(
  post: Pick<ScoredPost, 'id' | 'createdAt' | 'topics' | 'lang' | 'ingestedAt'> & Amplification,
  probs: Probabilities,
  scoring: { readonly model: string; readonly flags: readonly string[]; readonly analyzedAt: number },
): ScoredPost {
  const scored: ScoredPost = {
    id: post.id,
    createdAt: post.createdAt,
    topics: post.topics,
    lang: post.lang,
    label: labelOf(probs),
    probs,
    score: scoreOf(probs),
    model: scoring.model,
    flags: [...scoring.flags],
    ingestedAt: post.ingestedAt,
    analyzedAt: scoring.analyzedAt,
  };
  return withAmplification(scored, post);
}

/** A decoded scored post (the store reads them from Kafka); `fastPath` false checks by the schema alone. */
export function validateScoredPost(value: unknown, fastPath = true): Result<ScoredPost, Rejection> {
  if (fastPath && isPlainScoredPost(value)) {
    const { id, createdAt, topics, lang, label, probs, score, model, flags, ingestedAt, analyzedAt } = value;
    return checkScoredPost(
      withAmplification(
        {
          id,
          createdAt,
          topics,
          lang,
          label,
          probs: { neg: probs.neg, neu: probs.neu, pos: probs.pos },
          score,
          model,
          flags,
          ingestedAt,
          analyzedAt,
        },
        value,
      ),
    );
  }
  const parsed = scoredPostSchema.safeParse(value);
  if (parsed.success) return checkScoredPost(parsed.data);
  const issue = parsed.error.issues[0];
  return err({ code: 'invalid_shape', reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` });
}

/** The contract's bounds, checked on a decoded scored post exactly as ingest applied them to the post. */
function checkScoredPost(post: ScoredPost): Result<ScoredPost, Rejection> {
  const keys = canonicalKeys(post);
  if (!keys.ok) return keys;
  const { authorId, refKind, refId, ...rest } = post;
  if (authorId === undefined && refKind === undefined && refId === undefined) return ok({ ...rest, ...keys.value });
  return ok(withAmplification({ ...rest, ...keys.value }, canonicalAmplification({ authorId, refKind, refId })));
}

/** What scoredPostSchema accepts for certain, checked by hand (see fast-checks.ts); the rest goes through the schema. */
function isPlainScoredPost(v: unknown): v is ScoredPost {
  if (!isRecord(v) || !isRecord(v.probs)) return false;
  const { probs } = v;
  return (
    isPostIdDigits(v.id) &&
    isIsoDateTime(v.createdAt) &&
    isStringArray(v.topics) &&
    v.topics.length > 0 &&
    typeof v.lang === 'string' &&
    (LABELS as readonly unknown[]).includes(v.label) &&
    isNumberIn(probs.neg, 0, 1) &&
    isNumberIn(probs.neu, 0, 1) &&
    isNumberIn(probs.pos, 0, 1) &&
    isNumberIn(v.score, -1, 1) &&
    typeof v.model === 'string' &&
    v.model.length > 0 &&
    isStringArray(v.flags) &&
    isNonNegativeSafeInt(v.ingestedAt) &&
    isNonNegativeSafeInt(v.analyzedAt) &&
    isPlainAmplification(v)
  );
}
