import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Writes a few events (coverage, shifts) into a table of the embedded store, on a connection of its
 * own (WAL: beside the store's writes; it waits for the store's transaction instead of failing with
 * SQLITE_BUSY). `ddl` creates the table; `insert` is run with `row(event)` for each, one transaction per call.
 */
export class SqliteEventWriter<T> {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;

  constructor(
    path: string,
    ddl: string,
    insert: string,
    private readonly row: (event: T) => unknown[],
    /** Schema upgrades of a table made by an older version, run after `ddl`. */
    migrate: (db: Database.Database) => void = () => undefined,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(ddl);
    migrate(this.#db);
    this.#insert = this.#db.prepare(insert);
  }

  async write(events: readonly T[]): Promise<void> {
    this.#db.transaction(() => {
      for (const e of events) this.#insert.run(...this.row(e));
    })();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
