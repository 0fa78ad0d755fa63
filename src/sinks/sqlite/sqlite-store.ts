import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ScoredPost } from '../../contract/index.js';
import type { Sink } from '../../pipeline/component.js';
import { ADDED_IN_V2, CREATE_SCHEMA, SCHEMA_VERSION, UPSERT } from './schema.js';

/**
 * The embedded default store: SQLite through better-sqlite3 (synchronous, in-process, no server;
 * WAL mode so the dashboard and queries read while the pipeline writes). One transaction per batch.
 */
export class SqliteStore implements Sink<ScoredPost> {
  readonly name = 'sqlite';
  readonly stage = 'store' as const;
  readonly db: Database.Database;
  readonly #upsert: Database.Statement;
  readonly #writeBatch: (posts: readonly ScoredPost[], storedAt: number) => void;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // 64 MiB of page cache (the default is 2 MiB): the key index stays in memory while batches land.
    this.db.pragma('cache_size = -65536');
    this.db.exec(CREATE_SCHEMA);
    this.#migrate();
    this.#upsert = this.db.prepare(UPSERT);
    this.#writeBatch = this.db.transaction((posts: readonly ScoredPost[], storedAt: number) => {
      for (const post of posts) {
        const flags = post.flags.join(',');
        const createdAt = Date.parse(post.createdAt);
        for (const topic of post.topics) {
          this.#upsert.run(
            post.id,
            topic,
            createdAt,
            post.lang,
            post.label,
            post.probs.neg,
            post.probs.neu,
            post.probs.pos,
            post.score,
            post.model,
            flags,
            post.ingestedAt,
            post.analyzedAt,
            storedAt,
            post.authorId ?? '',
            post.refKind ?? '',
            post.refId ?? '',
          );
        }
      }
    });
  }

  /** A file of schema version 1 gets the columns of version 2 (ALTER TABLE ADD COLUMN keeps its rows). */
  #migrate(): void {
    const columns = new Set((this.db.prepare('PRAGMA table_info(post_sentiment)').all() as { name: string }[]).map((c) => c.name));
    this.db.transaction(() => {
      for (const column of ADDED_IN_V2) {
        const name = column.split(' ')[0] as string;
        if (!columns.has(name)) this.db.exec(`ALTER TABLE post_sentiment ADD COLUMN ${column}`);
      }
      this.db
        .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
        .run('schema_version', String(SCHEMA_VERSION));
    })();
  }

  async write(items: readonly ScoredPost[]): Promise<void> {
    if (items.length === 0) return;
    const storedAt = Date.now();
    this.#writeBatch(items, storedAt);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
