import type { CoverageWriter } from '../../pipeline/coverage-recorder.js';
import type { CoverageEvent } from '../../query/coverage.js';
import { SqliteEventWriter } from './event-writer.js';
import { CREATE_COVERAGE } from './schema.js';

/** Coverage events into the embedded store's table stream_coverage. */
export const sqliteCoverageWriter = (path: string): CoverageWriter =>
  new SqliteEventWriter<CoverageEvent>(path, CREATE_COVERAGE, 'INSERT INTO stream_coverage (at, state, detail) VALUES (?, ?, ?)', (e) => [
    e.at,
    e.state,
    e.detail,
  ]);
