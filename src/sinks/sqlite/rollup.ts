import type Database from 'better-sqlite3';
import type { Label } from '../../contract/index.js';
import { AMPLIFICATION_MODES, OPINION_WINDOW_MS, type AmplificationMode } from '../../query/amplification.js';
import { OpinionAggregator } from '../../query/opinions.js';
import { ALL_LANGUAGES } from '../../query/rollup-plan.js';
import { isUnsupported } from '../../query/languages.js';

/**
 * Rollups of the embedded store (src/query/rollup-plan.ts): the sums of every (topic, opinion
 * window) per amplification mode and per language, and for every language ('*'), kept in
 * sentiment_rollup. The store marks a window dirty in the same transaction as the posts it writes
 * (rollup_dirty), so a reader's snapshot always tells which rollups are current: a rollup counts
 * only while its window has no mark. The roller recomputes marked windows from the rows, once a
 * window has been quiet for a while (the live hour stays marked and is read from the rows).
 * sentiment_rollup_supported holds the same sums over the posts in supported languages only, and
 * how many posts it left out (src/query/languages.ts): what the default query reads. A window with
 * only posts left out has a row of n = 0 there (first_at, last_at NULL).
 */
export const CREATE_ROLLUP = `
CREATE TABLE IF NOT EXISTS sentiment_rollup (
  mode         TEXT    NOT NULL,  -- weighted | count
  lang         TEXT    NOT NULL,  -- a language, or '*' for every language
  window_start INTEGER NOT NULL,  -- epoch ms, a multiple of the opinion window
  topic        TEXT    NOT NULL,
  n            INTEGER NOT NULL,
  sum_w        REAL    NOT NULL,
  sum_w2       REAL    NOT NULL,
  sum_ws       REAL    NOT NULL,
  sum_ws2      REAL    NOT NULL,
  w_neg        REAL    NOT NULL,
  w_neu        REAL    NOT NULL,
  w_pos        REAL    NOT NULL,
  first_at     INTEGER NOT NULL,
  last_at      INTEGER NOT NULL,
  PRIMARY KEY (mode, lang, window_start, topic)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sentiment_rollup_window ON sentiment_rollup (topic, window_start);
CREATE TABLE IF NOT EXISTS sentiment_rollup_supported (
  mode         TEXT    NOT NULL,
  lang         TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  topic        TEXT    NOT NULL,
  n            INTEGER NOT NULL,
  sum_w        REAL    NOT NULL,
  sum_w2       REAL    NOT NULL,
  sum_ws       REAL    NOT NULL,
  sum_ws2      REAL    NOT NULL,
  w_neg        REAL    NOT NULL,
  w_neu        REAL    NOT NULL,
  w_pos        REAL    NOT NULL,
  first_at     INTEGER,           -- NULL when every post of the window was left out
  last_at      INTEGER,
  left_out     INTEGER NOT NULL,  -- posts in unsupported languages, not in the sums
  PRIMARY KEY (mode, lang, window_start, topic)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sentiment_rollup_supported_window ON sentiment_rollup_supported (topic, window_start);
CREATE TABLE IF NOT EXISTS rollup_dirty (
  topic        TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  touched_at   INTEGER NOT NULL,  -- epoch ms of the last write into the window (0: marked by the migration)
  PRIMARY KEY (topic, window_start)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollup_dirty_window ON rollup_dirty (window_start);
`;

/** Every (topic, window) of a file that had posts before it had (these) rollups: all of it is rolled up afresh. */
const MARK_EXISTING = `INSERT OR IGNORE INTO rollup_dirty (topic, window_start, touched_at)
  SELECT DISTINCT topic, (created_at / ${OPINION_WINDOW_MS}) * ${OPINION_WINDOW_MS}, 0 FROM post_sentiment`;

const MARK = `INSERT INTO rollup_dirty (topic, window_start, touched_at) VALUES (?, ?, ?)
  ON CONFLICT (topic, window_start) DO UPDATE SET touched_at = excluded.touched_at`;

const INSERT_ROLLUP = `INSERT INTO sentiment_rollup (mode, lang, window_start, topic, n, sum_w, sum_w2, sum_ws, sum_ws2, w_neg, w_neu, w_pos, first_at, last_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_SUPPORTED = `INSERT INTO sentiment_rollup_supported (mode, lang, window_start, topic, n, sum_w, sum_w2, sum_ws, sum_ws2, w_neg, w_neu, w_pos, first_at, last_at, left_out)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The rollups of every post, and those of the posts in supported languages (src/query/languages.ts). */
export type RollupTable = 'sentiment_rollup' | 'sentiment_rollup_supported';

/**
 * Whether a file has a rollup table (a file written before it, opened read-only, has not: its
 * queries read the rows).
 */
export function hasRollups(db: Database.Database, table: RollupTable = 'sentiment_rollup'): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
}

/**
 * The rollup tables of a file opened for writing; when one is new, the windows that already hold
 * posts are marked to be rolled up (a file written before sentiment_rollup_supported is rolled
 * afresh, and read from the rows until it is). One transaction: a reader never sees a new table
 * without the marks that say it is not filled yet.
 */
export function createRollups(db: Database.Database): void {
  db.transaction(() => {
    const existed = hasRollups(db) && hasRollups(db, 'sentiment_rollup_supported');
    db.exec(CREATE_ROLLUP);
    if (!existed) db.exec(MARK_EXISTING);
  })();
}

/** A row of a window, as an array (raw mode: no object per row): the columns of #rows, in order. */
type WindowRow = [
  createdAt: number,
  postId: string,
  score: number,
  label: Label,
  lang: string,
  flags: string,
  authorId: string,
  refKind: string,
  refId: string,
];

/** One (mode, language) fold of a window: over every post, or over the supported ones with the count left out. */
interface Fold {
  readonly mode: AmplificationMode;
  readonly lang: string;
  readonly supported: boolean;
  readonly aggregator: OpinionAggregator;
  leftOut: number;
}

export interface RollOutcome {
  /** Windows recomputed. */
  readonly rolled: number;
  /** Marked windows left (not quiet yet, or past the time budget). */
  readonly left: number;
}

/** The windows touched by a batch, and their marks; the roller that recomputes marked windows. */
export class Roller {
  readonly #mark: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #insertSupported: Database.Statement;
  readonly #deleteWindow: Database.Statement;
  readonly #deleteSupported: Database.Statement;
  readonly #unmark: Database.Statement;
  readonly #due: Database.Statement;
  readonly #count: Database.Statement;
  readonly #rows: Database.Statement;

  constructor(private readonly db: Database.Database) {
    createRollups(db);
    this.#mark = db.prepare(MARK);
    this.#insert = db.prepare(INSERT_ROLLUP);
    this.#insertSupported = db.prepare(INSERT_SUPPORTED);
    this.#deleteWindow = db.prepare('DELETE FROM sentiment_rollup WHERE topic = ? AND window_start = ?');
    this.#deleteSupported = db.prepare('DELETE FROM sentiment_rollup_supported WHERE topic = ? AND window_start = ?');
    this.#unmark = db.prepare('DELETE FROM rollup_dirty WHERE topic = ? AND window_start = ? AND touched_at = ?');
    this.#due = db.prepare('SELECT topic, window_start, touched_at FROM rollup_dirty WHERE touched_at <= ? ORDER BY touched_at, window_start LIMIT ?');
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM rollup_dirty');
    this.#rows = db
      .prepare(
        'SELECT created_at, post_id, score, label, lang, flags, author_id, ref_kind, ref_id FROM post_sentiment WHERE topic = ? AND created_at >= ? AND created_at < ?',
      )
      .raw(true);
  }

  /** Marks the windows a batch wrote into (call inside the batch's transaction). */
  mark(windows: ReadonlyMap<string, { readonly topic: string; readonly windowStart: number }>, now: number): void {
    for (const { topic, windowStart } of windows.values()) this.#mark.run(topic, windowStart, now);
  }

  /**
   * Recomputes one window from its rows, read once and folded per mode, per language and for every
   * language (an opinion may span languages) by the code the InfluxDB store folds rows with
   * (src/query/opinions.ts; the SQL of aggregate-sql.ts computes the same sums), and takes its mark
   * off unless it was written again since.
   */
  #roll(topic: string, windowStart: number, touchedAt: number): void {
    const folds: Fold[] = [];
    const newFold = (mode: AmplificationMode, lang: string, supported: boolean): Fold => {
      const fold: Fold = { mode, lang, supported, aggregator: new OpinionAggregator(mode, undefined), leftOut: 0 };
      folds.push(fold);
      return fold;
    };
    // Per language, the folds a row of it goes into: per mode, every post and the supported ones
    // ([all, supported] pairs). Built once per language: every row of the window reuses them.
    const pairsOfLang = new Map<string, (readonly [Fold, Fold])[]>();
    const pairsOf = (lang: string): readonly (readonly [Fold, Fold])[] => {
      let pairs = pairsOfLang.get(lang);
      if (pairs === undefined) {
        pairs = AMPLIFICATION_MODES.map((mode) => [newFold(mode, lang, false), newFold(mode, lang, true)] as const);
        pairsOfLang.set(lang, pairs);
      }
      return pairs;
    };
    for (const [at, postId, score, label, lang, flags, authorId, refKind, refId] of this.#rows.iterate(
      topic,
      windowStart,
      windowStart + OPINION_WINDOW_MS,
    ) as Iterable<WindowRow>) {
      const row = { topic, bucket: 0, at, postId, score, label, authorId, refKind, refId };
      const unsupported = isUnsupported(flags);
      for (const pairs of [pairsOf(lang), pairsOf(ALL_LANGUAGES)])
        for (const [all, supported] of pairs) {
          all.aggregator.add(row);
          if (unsupported) supported.leftOut += 1;
          else supported.aggregator.add(row);
        }
    }
    this.#deleteWindow.run(topic, windowStart);
    this.#deleteSupported.run(topic, windowStart);
    for (const { mode, lang, supported, aggregator, leftOut } of folds) {
      const groups = aggregator.groups();
      // Every post of the window left out: a row of nothing counted, that says how many.
      if (supported && groups.length === 0) this.#insertSupported.run(mode, lang, windowStart, topic, 0, 0, 0, 0, 0, 0, 0, 0, null, null, leftOut);
      for (const { stats: s, firstAt, lastAt } of groups) {
        const values = [
          mode,
          lang,
          windowStart,
          topic,
          s.n,
          s.sumOfWeights,
          s.sumOfSquaredWeights,
          s.weightedSum,
          s.weightedSumOfSquares,
          s.weightByLabel.negative,
          s.weightByLabel.neutral,
          s.weightByLabel.positive,
          firstAt,
          lastAt,
        ];
        if (supported) this.#insertSupported.run(...values, leftOut);
        else this.#insert.run(...values);
      }
    }
    this.#unmark.run(topic, windowStart, touchedAt);
  }

  /**
   * Rolls up windows last written before `quietBefore` (all of them with Infinity), oldest first,
   * until `deadline` (epoch ms, Date.now()).
   */
  roll(quietBefore: number, deadline: number): RollOutcome {
    let rolled = 0;
    const limit = Number.isFinite(quietBefore) ? Math.floor(quietBefore) : Number.MAX_SAFE_INTEGER;
    // Up to 64 windows a transaction (one commit for many small windows), stopping at the deadline.
    const slice = this.db.transaction((due: readonly { topic: string; window_start: number; touched_at: number }[]): boolean => {
      for (const d of due) {
        if (Date.now() >= deadline) return false;
        this.#roll(d.topic, d.window_start, d.touched_at);
        rolled += 1;
      }
      return due.length === 64;
    });
    while (slice(this.#due.all(limit, 64) as { topic: string; window_start: number; touched_at: number }[]));
    return { rolled, left: this.pending() };
  }

  /** Marked windows. */
  pending(): number {
    return (this.#count.get() as { n: number }).n;
  }
}
