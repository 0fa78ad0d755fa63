import { authorCapOf, DEFAULT_AMPLIFICATION, OPINION_WINDOW_MS, type AmplificationMode } from './amplification.js';
import type { OpinionGroup } from './opinions.js';
import type { TimeRange } from './sentiment-query.js';
import { excludesUnsupported } from './languages.js';

/**
 * Rollups: every aggregate is a sum over (topic, opinion window) parts (amplification.ts), so a
 * store keeps those parts, per amplification mode and per language (and '*' for every language),
 * twice: over every post, and over the posts in supported languages with a count of those left out
 * (src/query/languages.ts), and answers the whole windows of a range from them. What they cannot answer comes from the rows:
 * the range's ragged ends, windows written since they were rolled up (the store knows which), an
 * author cap (it counts per bucket), several languages at once (an opinion may span them), and
 * buckets that are not whole windows.
 */
export const ALL_LANGUAGES = '*';

/** Half-open span of epoch ms; an end left out is open. */
export interface Span {
  readonly from?: number;
  readonly to?: number;
}

export interface RollupPlan {
  readonly mode: AmplificationMode;
  /** The rollups' language key: one language, or ALL_LANGUAGES. */
  readonly lang: string;
  /** The rollups of posts in supported languages (with the count left out), not those of every post. */
  readonly supportedOnly: boolean;
  /** Whole windows answered by rollups: window starts in [from, to) (ends open where the range is). */
  readonly windows: Span | undefined;
  /** The rest of the range, read from the rows. */
  readonly rows: readonly Span[];
}

/**
 * How a range is answered, or undefined when rollups cannot serve it (rows only). `bucketMs`:
 * the bucket width, or undefined for a summary over the whole range.
 */
export function rollupPlan(range: TimeRange | undefined, bucketMs: number | undefined): RollupPlan | undefined {
  if (authorCapOf(range?.authorCap) !== undefined) return undefined;
  // Several languages: an opinion may span them. A language named like the rollups' key for all of
  // them is no language code; the rows answer it (with nothing).
  if (range?.langs !== undefined && (range.langs.length > 1 || range.langs[0] === ALL_LANGUAGES)) return undefined;
  if (bucketMs !== undefined && (bucketMs < OPINION_WINDOW_MS || bucketMs % OPINION_WINDOW_MS !== 0)) return undefined;
  const mode = range?.amplification ?? DEFAULT_AMPLIFICATION;
  const lang = range?.langs?.[0] ?? ALL_LANGUAGES;
  const supportedOnly = excludesUnsupported(range);
  const from = range?.from?.getTime();
  const to = range?.to?.getTime();
  const first = from === undefined ? undefined : Math.ceil(from / OPINION_WINDOW_MS) * OPINION_WINDOW_MS;
  const end = to === undefined ? undefined : Math.floor(to / OPINION_WINDOW_MS) * OPINION_WINDOW_MS;
  if (first !== undefined && end !== undefined && first >= end) return { mode, lang, supportedOnly, windows: undefined, rows: [{ from, to }] };
  const rows: Span[] = [];
  if (from !== undefined && first !== undefined && from < first) rows.push({ from, to: first });
  if (to !== undefined && end !== undefined && end < to) rows.push({ from: end, to });
  return { mode, lang, supportedOnly, windows: { ...(first === undefined ? {} : { from: first }), ...(end === undefined ? {} : { to: end }) }, rows };
}

/** The bucket a window or row at `at` falls in: its start for a width, 0 for a summary. */
export const bucketOf = (at: number, bucketMs: number | undefined): number => (bucketMs === undefined ? 0 : Math.floor(at / bucketMs) * bucketMs);

/** Parts of the same (topic, bucket) added up: every field of the sums is additive across windows. */
export function mergeParts(parts: Iterable<OpinionGroup>): OpinionGroup[] {
  const merged = new Map<string, OpinionGroup>();
  for (const part of parts) {
    const key = `${part.bucket}\u0000${part.topic}`;
    const seen = merged.get(key);
    if (seen === undefined) {
      merged.set(key, part);
      continue;
    }
    const a = seen.stats;
    const b = part.stats;
    merged.set(key, {
      topic: part.topic,
      bucket: part.bucket,
      firstAt: Math.min(seen.firstAt, part.firstAt),
      lastAt: Math.max(seen.lastAt, part.lastAt),
      stats: {
        n: a.n + b.n,
        sumOfWeights: a.sumOfWeights + b.sumOfWeights,
        sumOfSquaredWeights: a.sumOfSquaredWeights + b.sumOfSquaredWeights,
        weightedSum: a.weightedSum + b.weightedSum,
        weightedSumOfSquares: a.weightedSumOfSquares + b.weightedSumOfSquares,
        weightByLabel: {
          negative: a.weightByLabel.negative + b.weightByLabel.negative,
          neutral: a.weightByLabel.neutral + b.weightByLabel.neutral,
          positive: a.weightByLabel.positive + b.weightByLabel.positive,
        },
      },
    });
  }
  return [...merged.values()];
}

/**
 * Code point order, which is SQLite's BINARY collation on UTF-8: JavaScript's < compares UTF-16
 * code units, which puts a surrogate pair (U+10000 and above) before U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

const codePointRank = (unit: number): number => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);
