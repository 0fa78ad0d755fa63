import { err, ok, type Result } from './result.js';
import { rejection, type Rejection } from './rejection.js';

/**
 * The bounds and canonical forms every stage applies, in one place: ingest canonicalises a post
 * once, and analyze and store check the same rules on what they decode, so a post means the same
 * thing to every sink (SQLite, InfluxDB, Kafka). These are part of the message contract, not
 * configuration: two processes must never disagree about them.
 */
export const CONTRACT_LIMITS = {
  /** The earliest created_at accepted: the day of the first post on Twitter. */
  minCreatedAtMs: Date.UTC(2006, 2, 21),
  /**
   * created_at may lie at most this far after the time the post was ingested: clock skew between
   * X and this host, never days (a post from the future would move every "last hour" window).
   */
  maxFutureSkewMs: 10 * 60 * 1000,
  /** Topics (distinct matching-rule tags) one post may carry; X's largest plans allow 1,000 rules. */
  maxTopicsPerPost: 1000,
  /** Longest topic, in UTF-16 code units, after NFC. */
  maxTopicLength: 256,
} as const;

/** Post ids are int64 snowflakes: decimal, 1–19 digits, at most 2^63 − 1. */
const INT64_MAX = 9223372036854775807n;
const INT64_MAX_DIGITS = INT64_MAX.toString();
/** A post id's shape on the wire: 1–19 decimal digits (every schema and check uses this one). */
export const POST_ID_DIGITS = /^\d{1,19}$/;

/**
 * The canonical form of a post id: its decimal value without leading zeros, so that "42" and
 * "0000000000000000042" are the same post everywhere (they are the same number to X).
 */
export function canonicalPostId(id: string): Result<string, Rejection> {
  if (!POST_ID_DIGITS.test(id))
    return err(rejection('invalid_shape', `data.id: must be a decimal post id of 1-19 digits, got ${JSON.stringify(id.slice(0, 40))}`));
  // The common case without BigInt: no leading zero, and below 2^63 − 1 by length or by digits.
  if ((id[0] !== '0' || id.length === 1) && (id.length < 19 || id <= INT64_MAX_DIGITS)) return ok(id);
  const value = BigInt(id);
  if (value > INT64_MAX) return err(rejection('invalid_shape', `data.id: ${id} exceeds the largest post id (2^63 - 1)`));
  return ok(value.toString());
}

// C0 and C1 control characters (tab, newline, NUL, …) have no place in a topic name.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The canonical form of a topic (a rule tag): Unicode NFC, refused when it is not well-formed
 * UTF-16 (a lone surrogate would be stored as invalid UTF-8 by one sink and merged into U+FFFD by
 * another), holds control characters, or is longer than the limit.
 */
export function canonicalTopic(tag: string): Result<string, Rejection> {
  // A stream has few distinct tags (one per rule): remember the verdicts, in a bounded map.
  const known = topicVerdicts.get(tag);
  if (known) return known;
  const verdict = checkTopic(tag);
  if (tag.length <= CONTRACT_LIMITS.maxTopicLength) {
    if (topicVerdicts.size >= TOPIC_VERDICTS_KEPT) topicVerdicts.clear();
    topicVerdicts.set(tag, verdict);
  }
  return verdict;
}

const TOPIC_VERDICTS_KEPT = 4096;
const topicVerdicts = new Map<string, Result<string, Rejection>>();

function checkTopic(tag: string): Result<string, Rejection> {
  if (tag.length > CONTRACT_LIMITS.maxTopicLength * 4) return err(topicTooLong(tag));
  if (!tag.isWellFormed())
    return err(rejection('invalid_topic', `topic ${JSON.stringify(tag.slice(0, 40).toWellFormed())}… holds a lone surrogate (not valid Unicode)`));
  if (CONTROL.test(tag)) return err(rejection('invalid_topic', `topic ${JSON.stringify(tag.slice(0, 40))} holds a control character`));
  const nfc = tag.normalize('NFC');
  if (nfc.length > CONTRACT_LIMITS.maxTopicLength) return err(topicTooLong(nfc));
  return ok(nfc);
}

const topicTooLong = (tag: string): Rejection =>
  rejection(
    'invalid_topic',
    `topic of ${tag.length} characters exceeds ${CONTRACT_LIMITS.maxTopicLength} (starts ${JSON.stringify(tag.slice(0, 40).toWellFormed())})`,
  );

/** Canonical topics of a post: each canonicalised, deduplicated in first-seen order, at most the limit. */
export function canonicalTopics(topics: readonly string[]): Result<string[], Rejection> {
  if (topics.length === 0) return err(rejection('invalid_topic', 'a post needs at least one topic'));
  const seen = new Set<string>();
  for (const topic of topics) {
    const canonical = canonicalTopic(topic);
    if (!canonical.ok) return canonical;
    seen.add(canonical.value);
    if (seen.size > CONTRACT_LIMITS.maxTopicsPerPost) {
      return err(rejection('invalid_topic', `post matches more than ${CONTRACT_LIMITS.maxTopicsPerPost} distinct topics (${topics.length} rules)`));
    }
  }
  return ok([...seen]);
}

/** Language codes as X gives them (BCP 47: "en", "pt-BR", "und", "qme"). */
const LANG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export function checkLang(lang: string): Result<string, Rejection> {
  if (lang.length <= 35 && LANG.test(lang)) return ok(lang);
  return err(rejection('invalid_shape', `lang: ${JSON.stringify(lang.slice(0, 40).toWellFormed())} is not a language code`));
}

/** created_at must be an instant between the first post on Twitter and shortly after ingestion. */
export function checkCreatedAt(createdAtMs: number, ingestedAt: number): Result<number, Rejection> {
  if (!Number.isFinite(createdAtMs)) return err(rejection('invalid_shape', 'created_at: not a date'));
  const latest = ingestedAt + CONTRACT_LIMITS.maxFutureSkewMs;
  if (createdAtMs < CONTRACT_LIMITS.minCreatedAtMs || createdAtMs > latest) {
    return err(
      rejection(
        'created_at_out_of_range',
        `created_at ${new Date(createdAtMs).toISOString()} is outside ${new Date(CONTRACT_LIMITS.minCreatedAtMs).toISOString()} .. ${new Date(latest).toISOString()} (ingested + ${CONTRACT_LIMITS.maxFutureSkewMs / 60_000} min)`,
      ),
    );
  }
  return ok(createdAtMs);
}

/** An instant as Date.prototype.toISOString writes it for years 1000–9999 (UTC, milliseconds). */
const ISO_UTC_MS = /^[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Whether toISOString would give back the same string for an instant Date.parse accepted: it
 * normalises Feb 30 to Mar 2 and 24:00 to the next day, so days above 28 and hour 24 are
 * formatted again (Date.parse already refused other out-of-range fields).
 */
const isCanonicalInstant = (s: string): boolean => ISO_UTC_MS.test(s) && Number(s.slice(8, 10)) <= 28 && Number(s.slice(11, 13)) <= 23;

/** The fields every stage keys or bounds a post by, in their canonical form. */
export interface CanonicalKeys {
  readonly id: string;
  readonly topics: string[];
  readonly lang: string;
  /** ISO 8601 instant in UTC with milliseconds. */
  readonly createdAt: string;
}

/**
 * id, topics, lang and created_at canonicalised and bounded: ingest applies this to what it reads,
 * analyze and store to what they decode, so that every process and sink agrees on them.
 */
export function canonicalKeys(post: {
  readonly id: string;
  readonly topics: readonly string[];
  readonly lang: string;
  readonly createdAt: string;
  readonly ingestedAt: number;
}): Result<CanonicalKeys, Rejection> {
  const id = canonicalPostId(post.id);
  if (!id.ok) return id;
  const topics = canonicalTopics(post.topics);
  if (!topics.ok) return topics;
  const lang = checkLang(post.lang);
  if (!lang.ok) return lang;
  const createdAt = checkCreatedAt(Date.parse(post.createdAt), post.ingestedAt);
  if (!createdAt.ok) return createdAt;
  // Already in the canonical form (what X sends): keep the string instead of formatting it again.
  const iso = isCanonicalInstant(post.createdAt) ? post.createdAt : new Date(createdAt.value).toISOString();
  return ok({ id: id.value, topics: topics.value, lang: lang.value, createdAt: iso });
}

/**
 * Text as stored: lone surrogates become U+FFFD, so that every sink (SQLite's UTF-8, InfluxDB's
 * line protocol, Avro) stores the same valid string.
 */
export const canonicalText = (text: string): string => text.toWellFormed();
