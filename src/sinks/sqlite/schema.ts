/**
 * The embedded store's schema: one row per (post, topic). The primary key makes writes idempotent:
 * a replayed post updates its own rows instead of adding new ones. A rowid table appends rows in
 * arrival order and keeps the key in its own narrow index. WITHOUT ROWID keeps the 14-column rows
 * inside the key's B-tree; with post ids arriving out of order it wrote 27 µs per row against 16
 * here, and with ids in order the two were alike, 8.0 vs 8.1 µs (a better-sqlite3 micro on 30,000
 * and 100,000 rows). Files made before still work as they are: every statement reads the same on
 * both layouts.
 */
export const SCHEMA_VERSION = 2;

export const CREATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS post_sentiment (
  post_id      TEXT    NOT NULL,
  topic        TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,  -- epoch ms, from the post
  lang         TEXT    NOT NULL,
  label        TEXT    NOT NULL CHECK (label IN ('negative','neutral','positive')),
  neg          REAL    NOT NULL,
  neu          REAL    NOT NULL,
  pos          REAL    NOT NULL,
  score        REAL    NOT NULL,
  model        TEXT    NOT NULL,
  flags        TEXT    NOT NULL,  -- comma-separated, '' for none
  ingested_at  INTEGER NOT NULL,  -- epoch ms, first time stored
  analyzed_at  INTEGER NOT NULL,
  stored_at    INTEGER NOT NULL,
  author_id    TEXT    NOT NULL DEFAULT '',  -- '' when X sent none
  ref_kind     TEXT    NOT NULL DEFAULT '',  -- retweeted | quoted | replied_to | '' (an original)
  ref_id       TEXT    NOT NULL DEFAULT '',  -- the referenced post, '' for an original
  PRIMARY KEY (post_id, topic)
);
CREATE INDEX IF NOT EXISTS post_sentiment_topic_time ON post_sentiment (topic, created_at);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Detected sentiment shifts (src/shifts/detector.ts): one row per (topic, kind, detection time), the event as JSON. */
export const CREATE_SHIFTS = `
CREATE TABLE IF NOT EXISTS sentiment_shifts (
  topic        TEXT    NOT NULL,
  kind         TEXT    NOT NULL,  -- mean | volume
  detected_at  INTEGER NOT NULL,  -- epoch ms
  direction    TEXT    NOT NULL,  -- up | down
  change_at    INTEGER NOT NULL,
  event        TEXT    NOT NULL,
  PRIMARY KEY (topic, kind, detected_at)
);
CREATE INDEX IF NOT EXISTS sentiment_shifts_time ON sentiment_shifts (detected_at);
`;

/**
 * When the stream was connected, disconnected, paused or capped, and what was backfilled
 * (src/query/coverage.ts); rows in time order of arrival. `until_at`: a backfill's end, or when a
 * spent cap resets (a table created before it gets the column from coverageColumns).
 */
export const CREATE_COVERAGE = `
CREATE TABLE IF NOT EXISTS stream_coverage (
  at       INTEGER NOT NULL,  -- epoch ms
  state    TEXT    NOT NULL,
  detail   TEXT    NOT NULL,
  until_at INTEGER            -- epoch ms, or NULL
);
CREATE INDEX IF NOT EXISTS stream_coverage_at ON stream_coverage (at);
`;

/** Adds until_at to a stream_coverage table made before it (idempotent). */
export const COVERAGE_UNTIL_COLUMN = 'ALTER TABLE stream_coverage ADD COLUMN until_at INTEGER';

/**
 * Upsert, with positional parameters in column order (binding them costs less than named ones).
 * The sentiment columns take the newest values (a re-score with another model replaces the
 * old one); the stage timestamps keep those of the first storage, so replaying the same input
 * leaves exactly the same rows.
 */
export const UPSERT = `
INSERT INTO post_sentiment (post_id, topic, created_at, lang, label, neg, neu, pos, score, model, flags, ingested_at, analyzed_at, stored_at, author_id, ref_kind, ref_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (post_id, topic) DO UPDATE SET
  created_at = excluded.created_at, lang = excluded.lang, label = excluded.label,
  neg = excluded.neg, neu = excluded.neu, pos = excluded.pos, score = excluded.score,
  model = excluded.model, flags = excluded.flags,
  author_id = excluded.author_id, ref_kind = excluded.ref_kind, ref_id = excluded.ref_id
`;

/** Columns schema version 2 added; a version 1 file gets them (with their defaults) when opened for writing. */
export const ADDED_IN_V2 = ["author_id TEXT NOT NULL DEFAULT ''", "ref_kind TEXT NOT NULL DEFAULT ''", "ref_id TEXT NOT NULL DEFAULT ''"] as const;
