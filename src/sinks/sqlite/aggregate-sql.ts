import { OPINION_WINDOW_MS, type AmplificationMode } from '../../query/amplification.js';
import type { OpinionGroup } from '../../query/opinions.js';

/** One row of aggregateSql: the weighted sums of a (topic, bucket[, part]). */
export interface AggregateRow {
  topic: string;
  bucket: number;
  n: number;
  sum_w: number;
  sum_w2: number;
  sum_ws: number;
  sum_ws2: number;
  w_neg: number;
  w_neu: number;
  w_pos: number;
  first_at: number | null;
  last_at: number | null;
}

/** A row's sums as a part that adds up with others (src/query/rollup-plan.ts). */
export const partOfRow = (row: AggregateRow): OpinionGroup => ({
  topic: row.topic,
  bucket: row.bucket,
  firstAt: row.first_at ?? Number.POSITIVE_INFINITY,
  lastAt: row.last_at ?? Number.NEGATIVE_INFINITY,
  stats: {
    n: row.n,
    sumOfWeights: row.sum_w,
    sumOfSquaredWeights: row.sum_w2,
    weightedSum: row.sum_ws,
    weightedSumOfSquares: row.sum_ws2,
    weightByLabel: { negative: row.w_neg, neutral: row.w_neu, positive: row.w_pos },
  },
});

/**
 * The opinion a row belongs to: a retweet joins the post it retweets within the opinion window
 * (weighted), or every post is its own (count). Only these two strings ever reach the SQL.
 */
const OPINION_KEY: Readonly<Record<AmplificationMode, string>> = {
  weighted: `created_at / ${OPINION_WINDOW_MS}, CASE WHEN ref_kind = 'retweeted' THEN ref_id ELSE post_id END`,
  count: 'post_id',
};

export interface AggregateSqlOptions {
  /** SQL of a row's bucket (from created_at). */
  readonly bucket: string;
  /** WHERE clause over post_sentiment, or ''. */
  readonly where: string;
  readonly mode: AmplificationMode;
  /** An author cap, bound as the last parameter. */
  readonly capped: boolean;
  /** The amplification columns as the file has them. */
  readonly columns: string;
  /** SQL of one more grouping key, returned as `part` (the rollups' language), or none. */
  readonly part?: string;
}

/**
 * Per (topic, bucket[, part]): rows → opinions (one per opinion key, weight = its rows, scored and
 * labelled as the original when the original is among them, else as the mean of its retweets) →
 * sums over opinions. With the author cap, rows past an author's first `cap` in a (topic, bucket)
 * drop first.
 */
export function aggregateSql(o: AggregateSqlOptions): string {
  const part = o.part === undefined ? '' : `, ${o.part} AS part`;
  const byPart = o.part === undefined ? '' : ', part';
  const rows = o.capped
    ? `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY topic, bucket, author_id ORDER BY created_at, post_id) AS nth FROM base)
       WHERE author_id = '' OR nth <= ?`
    : 'SELECT * FROM base';
  return `WITH base AS (
    SELECT topic, ${o.bucket} AS bucket${part}, created_at, score, label, post_id, ${o.columns} FROM post_sentiment ${o.where}
  ), opinions AS (
    SELECT topic, bucket${byPart}, COUNT(*) AS w,
      COALESCE(MAX(CASE WHEN ref_kind <> 'retweeted' THEN score END), AVG(score)) AS s,
      MAX(CASE WHEN ref_kind <> 'retweeted' THEN label END) AS original_label,
      SUM(label = 'negative') AS r_neg, SUM(label = 'neutral') AS r_neu, SUM(label = 'positive') AS r_pos,
      MIN(created_at) AS first_at, MAX(created_at) AS last_at
    FROM (${rows}) GROUP BY topic, bucket${byPart}, ${OPINION_KEY[o.mode]}
  )
  SELECT topic, bucket${byPart}, COUNT(*) AS n, TOTAL(w) AS sum_w, TOTAL(w * w) AS sum_w2, TOTAL(w * s) AS sum_ws, TOTAL(w * s * s) AS sum_ws2,
    TOTAL(CASE WHEN original_label IS NULL THEN r_neg ELSE (original_label = 'negative') * w END) AS w_neg,
    TOTAL(CASE WHEN original_label IS NULL THEN r_neu ELSE (original_label = 'neutral') * w END) AS w_neu,
    TOTAL(CASE WHEN original_label IS NULL THEN r_pos ELSE (original_label = 'positive') * w END) AS w_pos,
    MIN(first_at) AS first_at, MAX(last_at) AS last_at
  FROM opinions GROUP BY topic, bucket${byPart}`;
}
