import Database from 'better-sqlite3';
import type { CoverageWriter } from '../../pipeline/coverage-recorder.js';
import type { CoverageEvent } from '../../query/coverage.js';
import { SqliteEventWriter } from './event-writer.js';
import { COVERAGE_UNTIL_COLUMN, CREATE_COVERAGE } from './schema.js';

/** Whether a stream_coverage table has the until_at column (tables made before backfills do not). */
export function hasUntilColumn(db: Database.Database): boolean {
  return (db.prepare('PRAGMA table_info(stream_coverage)').all() as { name: string }[]).some((c) => c.name === 'until_at');
}

/** Coverage events into the embedded store's table stream_coverage (adding until_at to an older table). */
export const sqliteCoverageWriter = (path: string): CoverageWriter =>
  new SqliteEventWriter<CoverageEvent>(
    path,
    CREATE_COVERAGE,
    'INSERT INTO stream_coverage (at, state, detail, until_at) VALUES (?, ?, ?, ?)',
    (e) => [e.at, e.state, e.detail, e.until ?? null],
    (db) => {
      if (!hasUntilColumn(db)) db.exec(COVERAGE_UNTIL_COLUMN);
    },
  );
