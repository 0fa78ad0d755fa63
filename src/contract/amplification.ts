import { z } from 'zod';
import { canonicalPostId, POST_ID_DIGITS } from './canonical.js';
import { isPostIdDigits } from './fast-checks.js';

/**
 * What a post says about amplification, kept from X's `author_id` and `referenced_tweets`: who
 * wrote it, and whether it retweets, quotes or replies to another post. A retweet is not an opinion
 * of its own (the query counts it as weight on the post it retweets, src/query/amplification.ts);
 * a quote or a reply is. These fields are optional on every contract version: a post without them
 * is an original by an unknown author.
 */
export const REF_KINDS = ['retweeted', 'quoted', 'replied_to'] as const;
export type RefKind = (typeof REF_KINDS)[number];

export const amplificationFields = {
  /** The author's user id (decimal, canonical), when X sent one. */
  authorId: z.string().regex(POST_ID_DIGITS).optional(),
  /** The reference that decides how the post counts: retweeted before quoted before replied_to. */
  refKind: z.enum(REF_KINDS).optional(),
  /** Id of the referenced post (decimal, canonical); present exactly when refKind is. */
  refId: z.string().regex(POST_ID_DIGITS).optional(),
};

export interface Amplification {
  readonly authorId?: string;
  readonly refKind?: RefKind;
  readonly refId?: string;
}

/** How strongly a reference decides what a post is: a retweet that also replies is a retweet. */
const PRECEDENCE: Readonly<Record<RefKind, number>> = { retweeted: 0, quoted: 1, replied_to: 2 };
const isRefKind = (s: string): s is RefKind => Object.hasOwn(PRECEDENCE, s);

/** A decimal id in its canonical form, or undefined when it is none (kept as an original rather than refused). */
function canonicalIdOrNone(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const canonical = canonicalPostId(id);
  return canonical.ok ? canonical.value : undefined;
}

/**
 * The amplification fields of one stream message's `data`. A reference of an unknown type or with an
 * id that is not a post id is ignored (the post still counts, as an original): X adds reference types
 * over time, and a malformed reference must not cost the post itself.
 */
export function amplificationOf(data: { readonly author_id?: string; readonly referenced_tweets?: readonly { type: string; id: string }[] }): Amplification {
  const authorId = canonicalIdOrNone(data.author_id);
  let refKind: RefKind | undefined;
  let refId: string | undefined;
  for (const ref of data.referenced_tweets ?? []) {
    if (!isRefKind(ref.type)) continue;
    const id = canonicalIdOrNone(ref.id);
    if (id === undefined) continue;
    if (refKind === undefined || PRECEDENCE[ref.type] < PRECEDENCE[refKind]) {
      refKind = ref.type;
      refId = id;
    }
  }
  return withAmplification({}, { authorId, refKind, refId });
}

/**
 * The amplification fields of a decoded post, canonical: ids without leading zeros, and a reference
 * kept only when both its kind and its id are there. Absent fields stay absent (not undefined-valued),
 * so a post without them compares and encodes exactly as before.
 */
export function canonicalAmplification(post: Amplification): Amplification {
  return withAmplification(
    {},
    {
      authorId: canonicalIdOrNone(post.authorId),
      refKind: post.refKind,
      refId: post.refKind === undefined ? undefined : canonicalIdOrNone(post.refId),
    },
  );
}

/** `target` with the amplification fields of `from` that are set (a reference needs kind and id). */
export function withAmplification<T extends object>(target: T, from: Amplification): T & Amplification {
  const out: T & { authorId?: string; refKind?: RefKind; refId?: string } = target;
  if (from.authorId !== undefined) out.authorId = from.authorId;
  if (from.refKind !== undefined && from.refId !== undefined) {
    out.refKind = from.refKind;
    out.refId = from.refId;
  }
  return out;
}

/** What amplificationFields accept for certain, checked by hand (the contract's fast paths, fast-checks.ts). */
export const isPlainAmplification = (v: Record<string, unknown>): boolean =>
  (v.authorId === undefined || isPostIdDigits(v.authorId)) &&
  (v.refKind === undefined || (typeof v.refKind === 'string' && isRefKind(v.refKind))) &&
  (v.refId === undefined || isPostIdDigits(v.refId));
