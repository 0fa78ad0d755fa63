import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CoverageWriter } from '../../pipeline/coverage-recorder.js';
import type { CoverageEvent } from '../../query/coverage.js';
import { CREATE_COVERAGE } from './schema.js';

/** Coverage events into the embedded store's own table, on a connection of their own (WAL: beside the store's writes). */
export class SqliteCoverageWriter implements CoverageWriter {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // The store writes on another connection: wait for its transaction instead of failing with SQLITE_BUSY.
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(CREATE_COVERAGE);
    this.#insert = this.#db.prepare('INSERT INTO stream_coverage (at, state, detail) VALUES (?, ?, ?)');
  }

  async write(events: readonly CoverageEvent[]): Promise<void> {
    this.#db.transaction(() => {
      for (const e of events) this.#insert.run(e.at, e.state, e.detail);
    })();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
