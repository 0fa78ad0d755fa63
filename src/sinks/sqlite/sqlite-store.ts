import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteSection, type SqliteConfig } from '../../config/sections/core.js';
import type { ScoredPost } from '../../contract/index.js';
import type { Sink } from '../../pipeline/component.js';
import { opinionWindowOf } from '../../query/amplification.js';
import { logger } from '../../telemetry/log.js';
import { Roller } from './rollup.js';
import { ADDED_IN_V2, CREATE_SCHEMA, SCHEMA_VERSION, UPSERT } from './schema.js';

const log = logger('sqlite-store');

/** When the roller runs (src/sinks/sqlite/rollup.ts): the sqlite section's rollup keys. */
export type RollupTiming = Pick<SqliteConfig, 'rollupIntervalMs' | 'rollupQuietMs' | 'rollupSliceMs' | 'rollupCloseMs'>;

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
  readonly #roller: Roller;
  #rollTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly timing: RollupTiming = sqliteSection.parse({}),
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // 64 MiB of page cache (the default is 2 MiB): the key index stays in memory while batches land.
    this.db.pragma('cache_size = -65536');
    this.db.exec(CREATE_SCHEMA);
    this.#migrate();
    this.#roller = new Roller(this.db);
    this.#upsert = this.db.prepare(UPSERT);
    this.#writeBatch = this.db.transaction((posts: readonly ScoredPost[], storedAt: number) => {
      const windows = new Map<string, { topic: string; windowStart: number }>();
      for (const post of posts) {
        const flags = post.flags.join(',');
        const createdAt = Date.parse(post.createdAt);
        const windowStart = opinionWindowOf(createdAt);
        for (const topic of post.topics) {
          const key = `${windowStart}\u0000${topic}`;
          if (!windows.has(key)) windows.set(key, { topic, windowStart });
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
      // The marks land with the rows: a reader never sees a rollup that misses a row of its window.
      this.#roller.mark(windows, storedAt);
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
    this.#scheduleRoll(this.timing.rollupIntervalMs);
  }

  /**
   * Rolls up the windows that have been quiet for rollupQuietMs, a slice of at most rollupSliceMs
   * at a time between batches, so the event loop keeps serving the pipeline.
   */
  #scheduleRoll(delayMs: number): void {
    if (this.#rollTimer !== undefined || !this.db.open) return;
    this.#rollTimer = setTimeout(() => {
      this.#rollTimer = undefined;
      if (!this.db.open) return;
      const now = Date.now();
      try {
        const { rolled, left } = this.#roller.roll(now - this.timing.rollupQuietMs, now + this.timing.rollupSliceMs);
        if (left > 0) this.#scheduleRoll(rolled > 0 ? 0 : this.timing.rollupIntervalMs);
      } catch (e) {
        // The marks stay: readers take those windows from the rows, and the next slice tries again.
        log.warn('rolling up windows failed; they stay marked and the roller tries again', { code: 'CP_ROLLUP', reason: (e as Error).message });
        this.#scheduleRoll(this.timing.rollupIntervalMs);
      }
    }, delayMs);
    this.#rollTimer.unref();
  }

  /** Rolls up every marked window now, within `budgetMs`; what is left stays marked (and read from the rows). */
  rollAll(budgetMs: number = this.timing.rollupCloseMs): { rolled: number; left: number } {
    return this.#roller.roll(Number.POSITIVE_INFINITY, Date.now() + budgetMs);
  }

  /** Windows written since they were last rolled up. */
  pendingRollups(): number {
    return this.#roller.pending();
  }

  async close(): Promise<void> {
    if (this.#rollTimer !== undefined) clearTimeout(this.#rollTimer);
    this.#rollTimer = undefined;
    if (!this.db.open) return;
    try {
      const { rolled, left } = this.rollAll();
      if (left > 0) log.info('windows left to roll up at close: read from the rows until the store rolls them', { rolled, left });
    } catch (e) {
      log.warn('rolling up at close failed; the windows stay marked', { code: 'CP_ROLLUP', reason: (e as Error).message });
    }
    this.db.close();
  }
}
