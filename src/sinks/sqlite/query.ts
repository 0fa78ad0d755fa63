import Database from 'better-sqlite3';
import { shiftOfJson } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import { isCoverageState, MAX_COVERAGE_EVENTS, type CoverageEvent } from '../../query/coverage.js';
import { hasUntilColumn } from './coverage.js';
import { amplifiedAggregateOf, authorCapOf, DEFAULT_AMPLIFICATION, OPINION_WINDOW_MS } from '../../query/amplification.js';
import type { OpinionGroup } from '../../query/opinions.js';
import { compareCodePoints, mergeParts, rollupPlan } from '../../query/rollup-plan.js';
import { aggregateSql, partOfRow, type AggregateRow } from './aggregate-sql.js';
import { hasRollups, type RollupTable } from './rollup.js';
import { excludesUnsupported, UNSUPPORTED_FLAG } from '../../query/languages.js';
import { withLeftOut } from '../../query/left-out.js';
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

/**
 * Rollups answer a range only while it holds at most this many windows written since they were
 * rolled up (read from the rows); past it, the whole range is read from the rows.
 */
const MAX_DIRTY_WINDOWS = 48;
/** Runs of consecutive windows (starts in order) as spans of time: one read of rows each. */
function spansOf(starts: readonly number[]): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  for (const start of starts) {
    const last = spans[spans.length - 1];
    if (last !== undefined && last.to === start) last.to = start + OPINION_WINDOW_MS;
    else spans.push({ from: start, to: start + OPINION_WINDOW_MS });
  }
  return spans;
}

/** Open ends of a span of windows. */
const EARLIEST = Number.MIN_SAFE_INTEGER;
const LATEST = Number.MAX_SAFE_INTEGER;

/** The same orders as TOPIC_ORDER over parts added up in code; topics compare as SQLite's BINARY collation (UTF-8 bytes) does. */
const PART_ORDER: ReadonlyMap<TopicOrder, (x: OpinionGroup, y: OpinionGroup) => number> = new Map([
  ['count', (x, y) => y.stats.sumOfWeights - x.stats.sumOfWeights || compareCodePoints(x.topic, y.topic)],
  ['newest', (x, y) => y.lastAt - x.lastAt || compareCodePoints(x.topic, y.topic)],
  ['oldest', (x, y) => x.firstAt - y.firstAt || compareCodePoints(x.topic, y.topic)],
]);

/** ORDER BY of topics() per order (a Map: only these strings ever reach the SQL); the topic breaks ties. */
const TOPIC_ORDER: ReadonlyMap<TopicOrder, string> = new Map([
  ['count', 'sum_w DESC, topic'],
  ['newest', 'last_at DESC, topic'],
  ['oldest', 'first_at ASC, topic'],
]);

/** The aggregate of one row's weighted sums (src/query/amplification.ts: the same code for every store). */
const aggregateOf = (row: AggregateRow, minPosts: number | undefined) => amplifiedAggregateOf(partOfRow(row).stats, minPosts);

/** A post's stored flags hold the unsupported-language flag (flags are comma-separated); bound to `,non_english,`. */
const FLAGGED = "instr(',' || flags || ',', ?) > 0";
const FLAG_PARAM = `,${UNSUPPORTED_FLAG},`;

/** A range's parts added up, and (for summaries that leave posts out) the posts left out per topic. */
interface Parts {
  readonly groups: OpinionGroup[];
  readonly leftOut: Map<string, number>;
}

/** The columns schema version 2 added, or their defaults when reading a version 1 file (opened read-only, not migrated). */
const V2_COLUMNS = 'author_id, ref_kind, ref_id';
const V1_DEFAULTS = "'' AS author_id, '' AS ref_kind, '' AS ref_id";

/** SentimentQuery over the embedded store, on its own read-only connection (WAL lets it read while the pipeline writes). */
export class SqliteQuery implements SentimentQuery {
  readonly #db: Database.Database;
  #columns: string | undefined;
  readonly #hasRollups = new Set<RollupTable>();

  /** `rollups: false` reads every answer from the rows (what a file without rollups does; the bench compares both). */
  constructor(
    path: string,
    private readonly options: { readonly rollups: boolean } = { rollups: true },
  ) {
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
    const sql = aggregateSql({
      bucket: bucketExpr,
      where: where.sql,
      mode: range?.amplification ?? DEFAULT_AMPLIFICATION,
      capped: cap !== undefined,
      columns: this.#amplificationColumns(),
    });
    return { sql, params: cap === undefined ? where.params : [...where.params, cap] };
  }

  /** Whether this file has a rollup table (known once it has it: a writer may add it to a file read before). */
  #rollups(table: RollupTable): boolean {
    if (!this.options.rollups) return false;
    if (this.#hasRollups.has(table)) return true;
    if (hasRollups(this.#db, table)) this.#hasRollups.add(table);
    return this.#hasRollups.has(table);
  }

  /** Posts left out per topic in a range (unsupported languages), read from the rows into `into`. */
  #addLeftOut(range: TimeRange | undefined, into: Map<string, number>): void {
    const where = this.#where(range, 'only');
    for (const r of this.#db.prepare(`SELECT topic, COUNT(*) AS n FROM post_sentiment ${where.sql} GROUP BY topic`).iterate(...where.params) as Iterable<{
      topic: string;
      n: number;
    }>)
      into.set(r.topic, (into.get(r.topic) ?? 0) + r.n);
  }

  /**
   * A range's sums per (topic, bucket) added up from parts (src/query/rollup-plan.ts): rollups for its
   * whole windows that were not written since they were rolled up, rows for the rest, in one read
   * transaction (one snapshot of rows, rollups and marks). Undefined: rollups cannot answer it.
   * `bucketMs` undefined = one summary per topic, with the posts left out per topic (counted only
   * for summaries).
   */
  #parts(range: TimeRange | undefined, bucketMs: number | undefined): Parts | undefined {
    const plan = rollupPlan(range, bucketMs);
    const table: RollupTable = plan?.supportedOnly === true ? 'sentiment_rollup_supported' : 'sentiment_rollup';
    if (plan === undefined || !this.#rollups(table)) return undefined;
    const countLeftOut = plan.supportedOnly && bucketMs === undefined;
    const leftOut = new Map<string, number>();
    const rowBucket = bucketMs === undefined ? '0' : `(created_at / ${bucketMs}) * ${bucketMs}`;
    const windowBucket = bucketMs === undefined ? '0' : `(window_start / ${bucketMs}) * ${bucketMs}`;
    const topics = range?.topics && range.topics.length > 0 ? JSON.stringify(range.topics) : null;
    const parts: OpinionGroup[] = [];
    const addRowsOf = (part: TimeRange): void => {
      const query = this.#aggregate(part, rowBucket);
      for (const row of this.#db.prepare(query.sql).iterate(...query.params) as Iterable<AggregateRow>) parts.push(partOfRow(row));
      if (countLeftOut) this.#addLeftOut(part, leftOut);
    };
    // Only these two strings ever reach the SQL.
    const leftOutColumn = plan.supportedOnly ? ', TOTAL(left_out) AS left_out' : '';
    return this.#db.transaction((): Parts | undefined => {
      const { windows } = plan;
      if (windows !== undefined) {
        const from = windows.from ?? EARLIEST;
        const to = windows.to ?? LATEST;
        // Windows written since they were rolled up (any topic of the range) are read from the rows, whole.
        const dirty = (
          this.#db
            .prepare(
              `SELECT DISTINCT window_start FROM rollup_dirty WHERE window_start >= ? AND window_start < ?
               AND (? IS NULL OR topic IN (SELECT value FROM json_each(?))) ORDER BY window_start LIMIT ?`,
            )
            .all(from, to, topics, topics, MAX_DIRTY_WINDOWS + 1) as { window_start: number }[]
        ).map((d) => d.window_start);
        if (dirty.length > MAX_DIRTY_WINDOWS) return undefined;
        const rolled = this.#db
          .prepare(
            `SELECT topic, ${windowBucket} AS bucket, SUM(n) AS n, TOTAL(sum_w) AS sum_w, TOTAL(sum_w2) AS sum_w2, TOTAL(sum_ws) AS sum_ws,
               TOTAL(sum_ws2) AS sum_ws2, TOTAL(w_neg) AS w_neg, TOTAL(w_neu) AS w_neu, TOTAL(w_pos) AS w_pos, MIN(first_at) AS first_at, MAX(last_at) AS last_at${leftOutColumn}
             FROM ${table} WHERE mode = ? AND lang = ? AND window_start >= ? AND window_start < ?
             AND (? IS NULL OR topic IN (SELECT value FROM json_each(?)))
             AND window_start NOT IN (SELECT value FROM json_each(?))
             GROUP BY topic, bucket`,
          )
          .all(plan.mode, plan.lang, from, to, topics, topics, JSON.stringify(dirty)) as (AggregateRow & { left_out?: number })[];
        for (const row of rolled) {
          parts.push(partOfRow(row));
          if (countLeftOut && row.left_out !== undefined && row.left_out > 0) leftOut.set(row.topic, (leftOut.get(row.topic) ?? 0) + row.left_out);
        }
        for (const span of spansOf(dirty)) addRowsOf({ ...range, from: new Date(span.from), to: new Date(span.to) });
      }
      for (const span of plan.rows)
        addRowsOf({
          ...range,
          ...(span.from === undefined ? {} : { from: new Date(span.from) }),
          ...(span.to === undefined ? {} : { to: new Date(span.to) }),
        });
      // A (topic, window) of posts left out only has a rollup of nothing counted.
      return { groups: mergeParts(parts).filter((p) => p.stats.n > 0), leftOut };
    })();
  }

  /**
   * The WHERE of a range: posts in unsupported languages left out when the range leaves them out,
   * or (`only`) those alone, to count them.
   */
  #where(range: TimeRange | undefined, unsupported: 'as asked' | 'only' = 'as asked'): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (unsupported === 'only' || excludesUnsupported(range)) {
      clauses.push(unsupported === 'only' ? FLAGGED : `NOT ${FLAGGED}`);
      params.push(FLAG_PARAM);
    }
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
    const parts = this.#parts(range, width)?.groups;
    if (parts !== undefined)
      return parts
        .sort((x, y) => compareCodePoints(x.topic, y.topic) || x.bucket - y.bucket)
        .map((p) => ({ topic: p.topic, bucketStart: new Date(p.bucket).toISOString(), ...amplifiedAggregateOf(p.stats, range.minPosts) }));
    const query = this.#aggregate(range, `(created_at / ${width}) * ${width}`);
    const rows = this.#db.prepare(`${query.sql} ORDER BY topic, bucket`).all(...query.params) as AggregateRow[];
    return rows.map((row) => ({ topic: row.topic, bucketStart: new Date(row.bucket).toISOString(), ...aggregateOf(row, range.minPosts) }));
  }

  async topics(request?: TopicsRequest): Promise<TopicSummary[]> {
    // LIMIT -1 = no limit.
    const limit = request?.limit === undefined ? -1 : Math.max(0, Math.floor(request.limit));
    const parts = this.#parts(request, undefined);
    if (parts !== undefined) {
      const ordered = parts.groups.sort(PART_ORDER.get(request?.order ?? 'count') ?? PART_ORDER.get('count'));
      const counted = (limit < 0 ? ordered : ordered.slice(0, limit)).map((p) => ({
        topic: p.topic,
        ...amplifiedAggregateOf(p.stats, request?.minPosts),
        firstAt: new Date(p.firstAt).toISOString(),
        lastAt: new Date(p.lastAt).toISOString(),
      }));
      return withLeftOut(counted, parts.leftOut, limit < 0 ? undefined : limit, request?.minPosts);
    }
    const query = this.#aggregate(request, '0');
    const orderBy = TOPIC_ORDER.get(request?.order ?? 'count') ?? 'sum_w DESC, topic';
    // The limit is applied outside a fully sorted subquery, not as ORDER BY ... LIMIT: SQLite's
    // top-N sort compares every row with the last kept one and reads that row in full each time, so
    // one kept 600,000-character topic made a LIMIT 1 over 200,000 topics take 10 s instead of 0.5 s.
    // (SQLite never flattens a subquery with a LIMIT into an outer query with a LIMIT.)
    const rows = this.#db.prepare(`SELECT * FROM (${query.sql} ORDER BY ${orderBy} LIMIT -1) LIMIT ?`).all(...query.params, limit) as AggregateRow[];
    const counted = rows.map((row) => ({
      topic: row.topic,
      ...aggregateOf(row, request?.minPosts),
      firstAt: row.first_at == null ? undefined : new Date(row.first_at).toISOString(),
      lastAt: row.last_at == null ? undefined : new Date(row.last_at).toISOString(),
    }));
    const leftOut = new Map<string, number>();
    if (excludesUnsupported(request)) this.#addLeftOut(request, leftOut);
    return withLeftOut(counted, leftOut, limit < 0 ? undefined : limit, request?.minPosts);
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
