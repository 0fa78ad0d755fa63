import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ScoredPost } from '../../src/contract/index.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('sqlite');
const scored = (id: string, topics: string[], createdAt: string, score: number, label: ScoredPost['label']): ScoredPost => ({
  id,
  topics,
  createdAt,
  lang: 'en',
  label,
  probs: { neg: score < 0 ? -score : 0, neu: 1 - Math.abs(score), pos: score > 0 ? score : 0 },
  score,
  model: 'test-model',
  flags: [],
  ingestedAt: 1,
  analyzedAt: 2,
});

const posts = [
  scored('1', ['a'], '2026-11-03T06:00:10.000Z', 0.8, 'positive'),
  scored('2', ['a', 'b'], '2026-11-03T06:00:20.000Z', -0.6, 'negative'),
  scored('3', ['b'], '2026-11-03T06:01:30.000Z', 0, 'neutral'),
];

const dump = (path: string): unknown[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT * FROM post_sentiment ORDER BY post_id, topic').all();
  } finally {
    db.close();
  }
};

test('one row per (post, topic); replaying the same input leaves exactly the same rows', async () => {
  const path = join(dir, 'idem.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  const first = dump(path);
  assert.equal(first.length, 4);
  await store.write(posts);
  await store.write([posts[1] as ScoredPost]);
  await store.close();
  assert.deepEqual(dump(path), first);
});

test('a re-score with another model replaces the sentiment but not the first-stored times', async () => {
  const path = join(dir, 'rescore.db');
  const store = new SqliteStore(path);
  await store.write([posts[0] as ScoredPost]);
  const before = dump(path)[0] as { stored_at: number };
  await store.write([{ ...(posts[0] as ScoredPost), model: 'other', score: -1, label: 'negative', probs: { neg: 1, neu: 0, pos: 0 } }]);
  await store.close();
  const after = dump(path)[0] as { stored_at: number; model: string; label: string };
  assert.equal(after.model, 'other');
  assert.equal(after.label, 'negative');
  assert.equal(after.stored_at, before.stored_at);
});

test('the query interface aggregates per topic and per time bucket', async () => {
  const path = join(dir, 'query.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();
  const query = new SqliteQuery(path);
  const topics = await query.topics();
  assert.deepEqual(
    topics.map((t) => [t.topic, t.count]),
    [
      ['a', 2],
      ['b', 2],
    ],
  );
  const a = topics.find((t) => t.topic === 'a');
  assert.ok(a && Math.abs(a.meanScore - 0.1) < 1e-9);
  assert.deepEqual(a?.shares, { negative: 0.5, neutral: 0, positive: 0.5 });
  const buckets = await query.buckets({ bucketSeconds: 60 });
  assert.deepEqual(
    buckets.map((b) => [b.topic, b.bucketStart, b.count]),
    [
      ['a', '2026-11-03T06:00:00.000Z', 2],
      ['b', '2026-11-03T06:00:00.000Z', 1],
      ['b', '2026-11-03T06:01:00.000Z', 1],
    ],
  );
  const onlyB = await query.buckets({ bucketSeconds: 60, topics: ['b'], from: new Date('2026-11-03T06:01:00Z') });
  assert.equal(onlyB.length, 1);
  const integrity = await query.integrity();
  assert.equal(integrity.distinctPosts, 3);
  assert.equal(integrity.duplicateKeys, 0);
  assert.equal(integrity.rowsPerTopic.get('a'), 2);
  await query.close();
});
