/**
 * Line protocol for crowdpulse's points: escaping of every user-controlled string and the point
 * schema. Pure functions, shared by the main thread and workers/line-protocol.worker.ts.
 *
 * Escaping rules (InfluxDB 1.8 parser, models/points.go; 2.x shares it):
 * - measurement: ',' ' ' '=' '"' are backslash-escaped (1.8 stores names through escape.Unescape,
 *   which undoes all four; a lone backslash is kept as is, so a name may contain one anywhere but
 *   at its end).
 * - tag values: ',' ' ' '=' are backslash-escaped. Line protocol cannot carry a newline or a
 *   trailing backslash in a tag at all, and drops empty tags; so tag values are first made
 *   representable by a reversible percent-encoding of '%', '\' and control characters
 *   (`encodeTagValue`), which `decodeTagValue` undoes on read. Ordinary topics are unchanged.
 *   An empty value is sent as no tag, and read back as ''.
 * - string fields: '\' and '"' are backslash-escaped; newlines are legal inside the quotes.
 */
import { POST_ID_DIGITS } from '../../contract/canonical.js';
import type { ScoredPost } from '../../contract/index.js';

/** Characters a tag value cannot carry raw: '%' (our escape), '\' and C0/C1 controls incl. DEL. */
const TAG_UNSAFE = /[%\\\p{Cc}]/gu;
const TAG_LP = /[, =]/g;

/** The tag value as InfluxDB stores it (what a query's filter must compare with). */
export function storedTagValue(value: string): string {
  return value.replace(TAG_UNSAFE, (c) => encodeURIComponent(c));
}

export function encodeTagValue(value: string): string {
  return storedTagValue(value).replace(TAG_LP, (c) => '\\' + c);
}

/** Inverse of the percent step of encodeTagValue, applied to tag values read back from InfluxDB. */
export function decodeTagValue(stored: string | null | undefined): string {
  if (stored === null || stored === undefined || stored === '') return '';
  return stored.includes('%') ? decodeURIComponent(stored) : stored;
}

export function escapeMeasurement(name: string): string {
  return name.replace(/[, ="]/g, (c) => '\\' + c);
}

export function escapeStringField(value: string): string {
  return '"' + value.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

const NEEDS_TAG_ESCAPE = /[%\\\p{Cc}, =]/u;
/** Encoded tag values seen recently (topics, languages, models repeat): skips the regexes. */
const tagMemo = new Map<string, string>();

/** `,key=value` for one tag (key is one of ours, needs no escaping); '' for an empty value. */
export function tagPair(key: string, value: string): string {
  if (value === '') return '';
  if (!NEEDS_TAG_ESCAPE.test(value)) return `,${key}=${value}`;
  const memoKey = key + '\u0000' + value;
  let pair = tagMemo.get(memoKey);
  if (pair === undefined) {
    pair = `,${key}=${encodeTagValue(value)}`;
    if (tagMemo.size >= 10_000) tagMemo.clear();
    if (value.length <= 256) tagMemo.set(memoKey, pair);
  }
  return pair;
}

/** InfluxDB refuses a series key (measurement + tags) longer than this (models.MaxKeyLength). */
export const MAX_SERIES_KEY_BYTES = 65_535;

/**
 * Timestamps. InfluxDB identifies a point by (series key, timestamp): a second point with the same
 * pair overwrites the first. The original system wrote every post of a second with the second's
 * timestamp, so InfluxDB kept one post per series per second. Here every (post, topic) gets a
 * timestamp, and a `slot` tag, that are a pure function of the post id — so a replay overwrites
 * exactly its own points — and that are distinct for distinct posts:
 *
 * - X post ids are snowflakes: (ms since 2010-11-04) << 22 | 22 bits unique within that ms. When
 *   the id's ms lies in the same UTC second as created_at (X's created_at is the id's time, often
 *   truncated to .000), the point's time is that ms plus (low 22 bits mod 10^6) ns, and
 *   slot = floor(low 22 bits / 10^6) ∈ 0..4. (ms, slot, offset) determines the id: no collision is
 *   possible, and the time stays within created_at's second.
 * - Any other id: time = created_at's ms + (id mod 5·10^6 mod 10^6) ns, slot = 5 + floor(id mod 5·10^6 / 10^6)
 *   ∈ 5..9 (disjoint from the snowflake slots, so the two schemes never meet). Two such posts
 *   collide only if they share series, ms and id mod 5·10^6 (ids a multiple of 5 million apart).
 *
 * The slot tag multiplies series cardinality by at most 5 (10 with both kinds of id); a post-id tag would make one series per
 * post, which InfluxDB's index does not survive. Queries ignore the slot.
 */
const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657n;
const LOW22 = 0x3f_ffffn;

export interface PointTime {
  /** Nanoseconds since the epoch, decimal. */
  readonly ns: string;
  readonly slot: number;
}

export function pointTime(id: string, createdAtMs: number): PointTime {
  const big = BigInt(id);
  const snowMs = Number((big >> 22n) + SNOWFLAKE_EPOCH_MS);
  let baseMs: number;
  let disc: number;
  let firstSlot: number;
  if (Math.floor(snowMs / 1000) === Math.floor(createdAtMs / 1000)) {
    baseMs = snowMs;
    disc = Number(big & LOW22);
    firstSlot = 0;
  } else {
    baseMs = createdAtMs;
    disc = Number(big % 5_000_000n);
    firstSlot = 5;
  }
  const slot = firstSlot + Math.floor(disc / 1_000_000);
  const offset = disc % 1_000_000;
  const ns = baseMs >= 0 ? `${baseMs}${String(offset).padStart(6, '0')}` : (BigInt(baseMs) * 1_000_000n + BigInt(offset)).toString();
  return { ns, slot };
}

/** Float field values use JS's shortest round-trip form (line protocol accepts exponents). */
const finite = (p: ScoredPost): boolean =>
  Number.isFinite(p.score) && Number.isFinite(p.probs.neg) && Number.isFinite(p.probs.neu) && Number.isFinite(p.probs.pos);

export interface EncodedPoints {
  /** Lines joined by '\n', one per (post, topic) that can be stored. */
  readonly text: string;
  readonly points: number;
  /** Posts that cannot be stored at all, by index into the input, with the reason. */
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
}

/**
 * One point per (post, topic):
 *   <measurement>,label=..,lang=..,model=..,slot=..,topic=.. neg=..,neu=..,pos=..,score=..,post_id="<id>",author_id="<id>|",ref_kind="<kind>|",ref_id="<id>|",flags="<a,b>|" <ns>
 * ('' where a post has none; flags comma-separated, as the SQLite store keeps them). Tags in key order (what InfluxDB sorts them into anyway). The amplification fields are fields,
 * not tags: they would multiply the series, and a tag added to old series would store a replayed
 * post as a second point.
 */
export function encodePosts(posts: readonly ScoredPost[], measurement: string): EncodedPoints {
  const m = escapeMeasurement(measurement);
  const lines: string[] = [];
  const rejected: { index: number; reason: string }[] = [];
  for (let i = 0; i < posts.length; i++) {
    const p = posts[i] as ScoredPost;
    const createdAtMs = Date.parse(p.createdAt);
    if (!Number.isFinite(createdAtMs) || !POST_ID_DIGITS.test(p.id)) {
      rejected.push({ index: i, reason: `unusable id or createdAt (id=${p.id.slice(0, 40)}, createdAt=${p.createdAt.slice(0, 40)})` });
      continue;
    }
    if (!finite(p)) {
      rejected.push({ index: i, reason: 'score or probabilities not finite numbers' });
      continue;
    }
    if (p.topics.length === 0) {
      rejected.push({ index: i, reason: 'no topics: a post is stored once per topic' });
      continue;
    }
    const t = pointTime(p.id, createdAtMs);
    // Ids are decimal digits and ref_kind one of three words (the contract): nothing to escape. All
    // three are written on every point, '' when absent, so that every series has the same columns
    // when pivoted (the query reads points without them too, as originals by unknown authors).
    const ref = p.refKind === undefined || p.refId === undefined ? '",ref_kind="",ref_id=""' : `",ref_kind="${p.refKind}",ref_id="${p.refId}"`;
    const amplification = `,author_id="${p.authorId ?? ''}${ref}`;
    // Flags on every point, "" for none: a replay that clears them overwrites the old value.
    const flags = p.flags.length === 0 ? ',flags=""' : `,flags=${escapeStringField(p.flags.join(','))}`;
    const fields = ` neg=${p.probs.neg},neu=${p.probs.neu},pos=${p.probs.pos},score=${p.score},post_id="${p.id}"${amplification}${flags} ${t.ns}`;
    const common = m + tagPair('label', p.label) + tagPair('lang', p.lang) + tagPair('model', p.model) + `,slot=${t.slot}`;
    const before = lines.length;
    let tooLong: string | undefined;
    for (const topic of p.topics.length === 1 ? p.topics : new Set(p.topics)) {
      const key = common + tagPair('topic', topic);
      // UTF-16 length × 3 bounds the UTF-8 length: count bytes only for long keys.
      if (key.length * 3 > MAX_SERIES_KEY_BYTES && Buffer.byteLength(key) > MAX_SERIES_KEY_BYTES) {
        tooLong = `series key of ${Buffer.byteLength(key)} bytes exceeds InfluxDB's ${MAX_SERIES_KEY_BYTES} (topic or lang too long)`;
        break;
      }
      lines.push(key + fields);
    }
    if (tooLong !== undefined) {
      lines.length = before;
      rejected.push({ index: i, reason: tooLong });
    }
  }
  return { text: lines.join('\n'), points: lines.length, rejected };
}

/** Points a post becomes (one per distinct topic). */
export const pointsOf = (post: ScoredPost): number => (post.topics.length === 1 ? 1 : new Set(post.topics).size);
