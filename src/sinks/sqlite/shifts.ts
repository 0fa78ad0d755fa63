import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { shiftJson, type ShiftWriter } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import { CREATE_SHIFTS } from './schema.js';

/** Detected shifts into the embedded store's own table, on a connection of their own (WAL: beside the store's writes). */
export class SqliteShiftWriter implements ShiftWriter {
  readonly #db: Database.Database;
  readonly #upsert: Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(CREATE_SHIFTS);
    this.#upsert = this.#db.prepare(
      `INSERT INTO sentiment_shifts (topic, kind, detected_at, direction, change_at, event) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (topic, kind, detected_at) DO UPDATE SET direction = excluded.direction, change_at = excluded.change_at, event = excluded.event`,
    );
  }

  async write(events: readonly ShiftEvent[]): Promise<void> {
    this.#db.transaction(() => {
      for (const e of events) this.#upsert.run(e.topic, e.kind, Date.parse(e.detectedAt), e.direction, Date.parse(e.changeAt), shiftJson(e));
    })();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
