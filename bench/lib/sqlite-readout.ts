/**
 * Reads a finished embedded run back from its SQLite file: rows per topic, distinct posts, and per
 * post the ingest and store times (epoch ms), which give end-to-end latency and lag.
 */
import Database from 'better-sqlite3';

export interface SqliteReadout {
  readonly rowsPerTopic: Map<string, number>;
  readonly distinctPosts: number;
  /** Per post: ingested_at and stored_at (ms), keyed by post id. */
  readonly times: Map<string, { readonly ingestedAt: number; readonly storedAt: number }>;
}

export function readSqlite(path: string): SqliteReadout {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT topic, count(*) AS n FROM post_sentiment GROUP BY topic').all() as { topic: string; n: number }[];
    const times = new Map<string, { ingestedAt: number; storedAt: number }>();
    const perPost = db.prepare('SELECT post_id, min(ingested_at) AS i, min(stored_at) AS s FROM post_sentiment GROUP BY post_id').all() as {
      post_id: string;
      i: number;
      s: number;
    }[];
    for (const r of perPost) times.set(r.post_id, { ingestedAt: r.i, storedAt: r.s });
    return { rowsPerTopic: new Map(rows.map((r) => [r.topic, r.n])), distinctPosts: perPost.length, times };
  } finally {
    db.close();
  }
}
