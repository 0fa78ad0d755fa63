import Database from 'better-sqlite3';
import type { Label } from '../../contract/index.js';
import { uncertaintyOf } from '../../query/intervals.js';
import type { SentimentBucket, SentimentQuery, TimeRange, TopicOrder, TopicsRequest, TopicSummary } from '../../query/sentiment-query.js';

interface AggregateRow {
  topic: string;
  bucket?: number;
  n: number;
  mean_score: number;
  n_neg: number;
  n_neu: number;
  n_pos: number;
  sum_score: number;
  sum_sq: number;
  first_at?: number | null;
  last_at?: number | null;
}

const shares = (row: AggregateRow): Record<Label, number> => ({
  negative: row.n === 0 ? 0 : row.n_neg / row.n,
  neutral: row.n === 0 ? 0 : row.n_neu / row.n,
  positive: row.n === 0 ? 0 : row.n_pos / row.n,
});

/** ORDER BY of topics() per order (a Map: only these strings ever reach the SQL); the topic breaks ties. */
const TOPIC_ORDER: ReadonlyMap<TopicOrder, string> = new Map([
  ['count', 'n DESC, topic'],
  ['newest', 'last_at DESC, topic'],
  ['oldest', 'first_at ASC, topic'],
]);

const AGGREGATES = `COUNT(*) AS n, AVG(score) AS mean_score, TOTAL(score) AS sum_score, TOTAL(score * score) AS sum_sq,
  SUM(label = 'negative') AS n_neg, SUM(label = 'neutral') AS n_neu, SUM(label = 'positive') AS n_pos`;

/** The aggregate's uncertainty from its sufficient statistics (the same code for every store). */
const uncertainty = (row: AggregateRow, minPosts: number | undefined) =>
  uncertaintyOf(
    { n: row.n, sum: row.sum_score, sumOfSquares: row.sum_sq, byLabel: { negative: row.n_neg, neutral: row.n_neu, positive: row.n_pos } },
    minPosts,
  );

/** SentimentQuery over the embedded store, on its own read-only connection (WAL lets it read while the pipeline writes). */
export class SqliteQuery implements SentimentQuery {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = new Database(path, { readonly: true, fileMustExist: true });
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
    return { sql: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  async buckets(range: TimeRange & { readonly bucketSeconds: number }): Promise<SentimentBucket[]> {
    const width = Math.max(1, Math.round(range.bucketSeconds * 1000));
    const where = this.#where(range);
    const rows = this.#db
      .prepare(
        `SELECT topic, (created_at / ${width}) * ${width} AS bucket, ${AGGREGATES}
       FROM post_sentiment ${where.sql} GROUP BY topic, bucket ORDER BY topic, bucket`,
      )
      .all(...where.params) as AggregateRow[];
    return rows.map((row) => ({
      topic: row.topic,
      bucketStart: new Date(row.bucket ?? 0).toISOString(),
      count: row.n,
      meanScore: row.mean_score,
      shares: shares(row),
      ...uncertainty(row, range.minPosts),
    }));
  }

  async topics(request?: TopicsRequest): Promise<TopicSummary[]> {
    const where = this.#where(request);
    // LIMIT -1 = no limit.
    const limit = request?.limit === undefined ? -1 : Math.max(0, Math.floor(request.limit));
    const orderBy = TOPIC_ORDER.get(request?.order ?? 'count') ?? 'n DESC, topic';
    // The limit is applied outside a fully sorted subquery, not as ORDER BY ... LIMIT: SQLite's
    // top-N sort compares every row with the last kept one and reads that row in full each time, so
    // one kept 600,000-character topic made a LIMIT 1 over 200,000 topics take 10 s instead of 0.5 s.
    // (SQLite never flattens a subquery with a LIMIT into an outer query with a LIMIT.)
    const rows = this.#db
      .prepare(
        `SELECT * FROM (
         SELECT topic, ${AGGREGATES}, MIN(created_at) AS first_at, MAX(created_at) AS last_at
         FROM post_sentiment ${where.sql} GROUP BY topic ORDER BY ${orderBy} LIMIT -1
       ) LIMIT ?`,
      )
      .all(...where.params, limit) as AggregateRow[];
    return rows.map((row) => ({
      topic: row.topic,
      count: row.n,
      meanScore: row.mean_score,
      shares: shares(row),
      ...uncertainty(row, request?.minPosts),
      firstAt: row.first_at == null ? undefined : new Date(row.first_at).toISOString(),
      lastAt: row.last_at == null ? undefined : new Date(row.last_at).toISOString(),
    }));
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
