import Database from 'better-sqlite3';
import { shiftOfJson } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import { isCoverageState, MAX_COVERAGE_EVENTS, type CoverageEvent } from '../../query/coverage.js';
import { hasUntilColumn } from './coverage.js';
import { amplifiedAggregateOf, authorCapOf, DEFAULT_AMPLIFICATION, OPINION_WINDOW_MS, type AmplificationMode } from '../../query/amplification.js';
import {
  MAX_SHIFTS,
  type SentimentBucket,
  type SentimentQuery,
  type ShiftRange,
  type TimeRange,
  type TopicOrder,
  type TopicsRequest,
  type TopicSummary,
} from '../../query/sentiment-query.js';

interface AggregateRow {
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

/** ORDER BY of topics() per order (a Map: only these strings ever reach the SQL); the topic breaks ties. */
const TOPIC_ORDER: ReadonlyMap<TopicOrder, string> = new Map([
  ['count', 'sum_w DESC, topic'],
  ['newest', 'last_at DESC, topic'],
  ['oldest', 'first_at ASC, topic'],
]);

/** The aggregate of one row's weighted sums (src/query/amplification.ts: the same code for every store). */
const aggregateOf = (row: AggregateRow, minPosts: number | undefined) =>
  amplifiedAggregateOf(
    {
      n: row.n,
      sumOfWeights: row.sum_w,
      sumOfSquaredWeights: row.sum_w2,
      weightedSum: row.sum_ws,
      weightedSumOfSquares: row.sum_ws2,
      weightByLabel: { negative: row.w_neg, neutral: row.w_neu, positive: row.w_pos },
    },
    minPosts,
  );

/**
 * The opinion a row belongs to: a retweet joins the post it retweets (weighted), or every post is
 * its own (count). Only these two strings ever reach the SQL.
 */
const OPINION_KEY: Readonly<Record<AmplificationMode, string>> = {
  weighted: `created_at / ${OPINION_WINDOW_MS}, CASE WHEN ref_kind = 'retweeted' THEN ref_id ELSE post_id END`,
  count: 'post_id',
};

/**
 * Per (topic, bucket): rows → opinions (one per opinion key, weight = its rows, scored and labelled
 * as the original when the original is among them, else as the mean of its retweets) → sums over
 * opinions. With the author cap, rows past an author's first `cap` in a (topic, bucket) drop first.
 */
function aggregateSql(bucketExpr: string, where: string, mode: AmplificationMode, capped: boolean, columns: string): string {
  const rows = capped
    ? `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY topic, bucket, author_id ORDER BY created_at, post_id) AS nth FROM base)
       WHERE author_id = '' OR nth <= ?`
    : 'SELECT * FROM base';
  return `WITH base AS (
    SELECT topic, ${bucketExpr} AS bucket, created_at, score, label, post_id, ${columns} FROM post_sentiment ${where}
  ), opinions AS (
    SELECT topic, bucket, COUNT(*) AS w,
      COALESCE(MAX(CASE WHEN ref_kind <> 'retweeted' THEN score END), AVG(score)) AS s,
      MAX(CASE WHEN ref_kind <> 'retweeted' THEN label END) AS original_label,
      SUM(label = 'negative') AS r_neg, SUM(label = 'neutral') AS r_neu, SUM(label = 'positive') AS r_pos,
      MIN(created_at) AS first_at, MAX(created_at) AS last_at
    FROM (${rows}) GROUP BY topic, bucket, ${OPINION_KEY[mode]}
  )
  SELECT topic, bucket, COUNT(*) AS n, TOTAL(w) AS sum_w, TOTAL(w * w) AS sum_w2, TOTAL(w * s) AS sum_ws, TOTAL(w * s * s) AS sum_ws2,
    TOTAL(CASE WHEN original_label IS NULL THEN r_neg ELSE (original_label = 'negative') * w END) AS w_neg,
    TOTAL(CASE WHEN original_label IS NULL THEN r_neu ELSE (original_label = 'neutral') * w END) AS w_neu,
    TOTAL(CASE WHEN original_label IS NULL THEN r_pos ELSE (original_label = 'positive') * w END) AS w_pos,
    MIN(first_at) AS first_at, MAX(last_at) AS last_at
  FROM opinions GROUP BY topic, bucket`;
}

/** The columns schema version 2 added, or their defaults when reading a version 1 file (opened read-only, not migrated). */
const V2_COLUMNS = 'author_id, ref_kind, ref_id';
const V1_DEFAULTS = "'' AS author_id, '' AS ref_kind, '' AS ref_id";

/** SentimentQuery over the embedded store, on its own read-only connection (WAL lets it read while the pipeline writes). */
export class SqliteQuery implements SentimentQuery {
  readonly #db: Database.Database;
  #columns: string | undefined;

  constructor(path: string) {
    this.#db = new Database(path, { readonly: true, fileMustExist: true });
  }

  /** The amplification columns as this file has them (known once the table has them). */
  #amplificationColumns(): string {
    if (this.#columns !== undefined) return this.#columns;
    const names = new Set((this.#db.prepare('PRAGMA table_info(post_sentiment)').all() as { name: string }[]).map((c) => c.name));
    const columns = names.has('ref_kind') ? V2_COLUMNS : V1_DEFAULTS;
    if (columns === V2_COLUMNS) this.#columns = columns;
    return columns;
  }

  /** The aggregate query of a range, with its parameters in order. */
  #aggregate(range: TimeRange | undefined, bucketExpr: string): { sql: string; params: unknown[] } {
    const where = this.#where(range);
    const cap = authorCapOf(range?.authorCap);
    const sql = aggregateSql(bucketExpr, where.sql, range?.amplification ?? DEFAULT_AMPLIFICATION, cap !== undefined, this.#amplificationColumns());
    return { sql, params: cap === undefined ? where.params : [...where.params, cap] };
  }

  #where(range: TimeRange | undefined): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (range?.from) {
      clauses.push('created_at >= ?');
      params.push(range.from.getTime());
    }
    if (range?.to) {
      clauses.push('created_at < ?');
      params.push(range.to.getTime());
    }
    if (range?.topics && range.topics.length > 0) {
      // One JSON parameter, not one `?` per topic: any number of topics stays within SQLite's
      // variable limit and never becomes a huge argument list.
      clauses.push('topic IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(range.topics));
    }
    if (range?.langs && range.langs.length > 0) {
      clauses.push('lang IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(range.langs));
    }
    return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  async buckets(range: TimeRange & { readonly bucketSeconds: number }): Promise<SentimentBucket[]> {
    const width = Math.max(1, Math.round(range.bucketSeconds * 1000));
    const query = this.#aggregate(range, `(created_at / ${width}) * ${width}`);
    const rows = this.#db.prepare(`${query.sql} ORDER BY topic, bucket`).all(...query.params) as AggregateRow[];
    return rows.map((row) => ({ topic: row.topic, bucketStart: new Date(row.bucket).toISOString(), ...aggregateOf(row, range.minPosts) }));
  }

  async topics(request?: TopicsRequest): Promise<TopicSummary[]> {
    const query = this.#aggregate(request, '0');
    // LIMIT -1 = no limit.
    const limit = request?.limit === undefined ? -1 : Math.max(0, Math.floor(request.limit));
    const orderBy = TOPIC_ORDER.get(request?.order ?? 'count') ?? 'sum_w DESC, topic';
    // The limit is applied outside a fully sorted subquery, not as ORDER BY ... LIMIT: SQLite's
    // top-N sort compares every row with the last kept one and reads that row in full each time, so
    // one kept 600,000-character topic made a LIMIT 1 over 200,000 topics take 10 s instead of 0.5 s.
    // (SQLite never flattens a subquery with a LIMIT into an outer query with a LIMIT.)
    const rows = this.#db.prepare(`SELECT * FROM (${query.sql} ORDER BY ${orderBy} LIMIT -1) LIMIT ?`).all(...query.params, limit) as AggregateRow[];
    return rows.map((row) => ({
      topic: row.topic,
      ...aggregateOf(row, request?.minPosts),
      firstAt: row.first_at == null ? undefined : new Date(row.first_at).toISOString(),
      lastAt: row.last_at == null ? undefined : new Date(row.last_at).toISOString(),
    }));
  }

  async coverage(range: { readonly from: Date; readonly to: Date }): Promise<CoverageEvent[]> {
    const exists = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stream_coverage'").get();
    if (!exists) return [];
    // The last state event before the range says what state it starts in; backfills that reach into it count too.
    const until = hasUntilColumn(this.#db) ? 'until_at' : 'NULL AS until_at';
    const from = range.from.getTime();
    const rows = this.#db
      .prepare(
        `SELECT at, state, detail, until_at FROM (
           SELECT * FROM (SELECT rowid AS seq, at, state, detail, ${until} FROM stream_coverage WHERE at <= ? AND state != 'backfilled' ORDER BY at DESC, rowid DESC LIMIT 1)
           UNION ALL
           SELECT * FROM (SELECT rowid AS seq, at, state, detail, ${until} FROM stream_coverage WHERE at <= ? AND state = 'backfilled' AND until_at > ? ORDER BY at DESC LIMIT ?)
           UNION ALL
           SELECT * FROM (SELECT rowid AS seq, at, state, detail, ${until} FROM stream_coverage WHERE at > ? AND at < ? ORDER BY at, rowid LIMIT ?)
         ) ORDER BY at, seq`,
      )
      .all(from, from, from, MAX_COVERAGE_EVENTS, from, range.to.getTime(), MAX_COVERAGE_EVENTS) as {
      at: number;
      state: string;
      detail: string;
      until_at: number | null;
    }[];
    const events: CoverageEvent[] = [];
    for (const r of rows)
      if (isCoverageState(r.state))
        events.push(r.until_at === null ? { at: r.at, state: r.state, detail: r.detail } : { at: r.at, state: r.state, detail: r.detail, until: r.until_at });
    return events;
  }

  async shifts(range: ShiftRange): Promise<ShiftEvent[]> {
    const exists = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sentiment_shifts'").get();
    if (!exists) return [];
    const topics = range.topics && range.topics.length > 0 ? JSON.stringify(range.topics) : null;
    const rows = this.#db
      .prepare(
        `SELECT event FROM sentiment_shifts WHERE detected_at >= ? AND detected_at < ?
         AND (? IS NULL OR topic IN (SELECT value FROM json_each(?))) ORDER BY detected_at, topic, kind LIMIT ?`,
      )
      .all(range.from.getTime(), range.to.getTime(), topics, topics, Math.min(range.limit ?? MAX_SHIFTS, MAX_SHIFTS)) as { event: string }[];
    return rows.map((r) => shiftOfJson(r.event)).filter((e): e is ShiftEvent => e !== undefined);
  }

  async integrity(): Promise<{ rowsPerTopic: ReadonlyMap<string, number>; distinctPosts: number; duplicateKeys: number }> {
    const perTopic = this.#db.prepare('SELECT topic, COUNT(*) AS n FROM post_sentiment GROUP BY topic').all() as { topic: string; n: number }[];
    const distinct = this.#db.prepare('SELECT COUNT(DISTINCT post_id) AS n FROM post_sentiment').get() as { n: number };
    // The primary key forbids duplicates; counted anyway so that a schema change cannot hide them.
    const dup = this.#db.prepare('SELECT COUNT(*) AS n FROM (SELECT post_id, topic FROM post_sentiment GROUP BY post_id, topic HAVING COUNT(*) > 1)').get() as {
      n: number;
    };
    return { rowsPerTopic: new Map(perTopic.map((r) => [r.topic, r.n])), distinctPosts: distinct.n, duplicateKeys: dup.n };
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
