/**
 * InfluxDB rollups (#13.7): the (topic, opinion window) parts of every aggregate (src/query/rollup-plan.ts),
 * kept as points so that a 30-day query adds up 720 parts per topic instead of reading every post.
 *
 * - `<measurement>_rollup`, tags lang ('*' = every language, or the code), mode (weighted, count),
 *   topic; fields n, sum_w, sum_w2, sum_ws, sum_ws2, w_neg, w_neu, w_pos (the OpinionGroup sums),
 *   first_at, last_at (epoch ms) and rolled_through; time = the window's start. Written by the roller
 *   (roller.ts); the same series and time overwrite, so rolling again is harmless.
 * - `<measurement>_rollup_supported`: the same over the posts in supported languages only, with one
 *   more field, left_out (the posts in unsupported languages it leaves out; src/query/languages.ts).
 *   A window whose every post was left out has a point of n = 0 that says how many.
 * - `<measurement>_rollup_dirty`, tag topic, field touched (epoch ms, strictly increasing per
 *   writer); time = the window's start. Written by the sink for every (topic, window) of a batch,
 *   after its posts are durable and before the batch is acknowledged.
 * - `<measurement>_rollup_since`, field written_at; time = the first window from which every write
 *   carried marks. Windows before the earliest one are always read from the posts.
 *
 * A (topic, window) is clean when its rollups' rolled_through ≥ its mark's touched: the roller reads
 * the mark (T) before the posts and writes rolled_through = T, and a mark is written only after
 * its posts are durable, so every post whose mark is ≤ T was in the roll. No mark after `since`
 * means no posts there. Integer fields carry the `i` suffix, every time; floats never do (InfluxDB
 * refuses a field whose type changes within a shard).
 */
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { OPINION_WINDOW_MS, type AmplificationMode } from '../../query/amplification.js';
import type { OpinionGroup } from '../../query/opinions.js';
import { escapeMeasurement, tagPair } from './line-protocol.js';

type Measured = Pick<InfluxdbConfig, 'measurement'>;
export const rollupMeasurement = (c: Measured): string => `${c.measurement}_rollup`;
export const supportedRollupMeasurement = (c: Measured): string => `${c.measurement}_rollup_supported`;
export const dirtyMeasurement = (c: Measured): string => `${c.measurement}_rollup_dirty`;
export const sinceMeasurement = (c: Measured): string => `${c.measurement}_rollup_since`;

/** Post `created_at` may lie this far after its ingestion (clock skew, X's own): a mark-less writer still running may write that far ahead. */
export const CREATED_AT_LEAD_MS = 10 * 60_000;

/** The window from which a writer that starts marking now can vouch for every write: the one after the latest a mark-less write can reach. */
export const sinceFor = (now: number): number => (Math.floor((now + CREATED_AT_LEAD_MS) / OPINION_WINDOW_MS) + 1) * OPINION_WINDOW_MS;

/** A (topic, window) pair's map key. */
export const pairKey = (window: number, topic: string): string => `${window}\u0000${topic}`;

const ns = (ms: number): string => (BigInt(ms) * 1_000_000n).toString();

/** One line per (topic, window): `<m>_rollup_dirty[,topic=…] touched=<ms>i <window ns>`. */
export function encodeMarks(pairs: Iterable<{ readonly topic: string; readonly window: number }>, touched: number, c: Measured): string {
  const m = escapeMeasurement(dirtyMeasurement(c));
  const lines: string[] = [];
  for (const { topic, window } of pairs) lines.push(`${m}${tagPair('topic', topic)} touched=${touched}i ${ns(window)}`);
  return lines.join('\n');
}

export const encodeSince = (since: number, writtenAt: number, c: Measured): string =>
  `${escapeMeasurement(sinceMeasurement(c))} written_at=${writtenAt}i ${ns(since)}`;

/** A rollup point: one (mode, lang, topic, window)'s sums, or none (n = 0) for a '*' roll that found no posts. */
export interface RollupPoint {
  readonly mode: AmplificationMode;
  readonly lang: string;
  readonly group: OpinionGroup;
  readonly rolledThrough: number;
  /** A point of the posts in supported languages (`<m>_rollup_supported`): the posts it left out. */
  readonly leftOut?: number;
}

/** `<m>_rollup[_supported],lang=…,mode=…[,topic=…] n=…i,sum_w=…,…[,left_out=…i] <window ns>`; the group's bucket is the window. */
export function encodeRollup(p: RollupPoint, c: Measured): string {
  const s = p.group.stats;
  const w = s.weightByLabel;
  const fields =
    `n=${s.n}i,sum_w=${float(s.sumOfWeights)},sum_w2=${float(s.sumOfSquaredWeights)},sum_ws=${float(s.weightedSum)},sum_ws2=${float(s.weightedSumOfSquares)}` +
    `,w_neg=${float(w.negative)},w_neu=${float(w.neutral)},w_pos=${float(w.positive)}` +
    `,first_at=${p.group.firstAt}i,last_at=${p.group.lastAt}i,rolled_through=${p.rolledThrough}i` +
    (p.leftOut === undefined ? '' : `,left_out=${p.leftOut}i`);
  const m = p.leftOut === undefined ? rollupMeasurement(c) : supportedRollupMeasurement(c);
  return `${escapeMeasurement(m)}${tagPair('lang', p.lang)},mode=${p.mode}${tagPair('topic', p.group.topic)} ${fields} ${ns(p.group.bucket)}`;
}

/** A float field: JS's shortest round-trip form (line protocol takes exponents); never read as an integer. */
const float = (x: number): string => (Number.isFinite(x) ? String(x) : '0');

/** A rollup row read back (pivoted): its sums as an OpinionGroup in `bucket`, and its rolled_through. */
export function groupOfRollup(r: Record<string, unknown>, topic: string, bucket: number): OpinionGroup {
  const num = (k: string): number => Number(r[k] ?? 0);
  return {
    topic,
    bucket,
    firstAt: num('first_at'),
    lastAt: num('last_at'),
    stats: {
      n: num('n'),
      sumOfWeights: num('sum_w'),
      sumOfSquaredWeights: num('sum_w2'),
      weightedSum: num('sum_ws'),
      weightedSumOfSquares: num('sum_ws2'),
      weightByLabel: { negative: num('w_neg'), neutral: num('w_neu'), positive: num('w_pos') },
    },
  };
}
