/**
 * #11.3 over InfluxDB: topics() with a limit and an order answers what the embedded store answers,
 * and the sentiment view and the run summary stay bounded over many topics and a long tag.
 * (Smaller than the SQLite variant: InfluxDB 1.8 refuses more than 100,000 values per tag and
 * series keys over 64 KB.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ScoredPost } from '../../src/contract/index.js';
import { MAX_SUMMARIES, sentimentView } from '../../src/dashboard/sentiment-view.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import type { TopicsRequest } from '../../src/query/sentiment-query.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { formatSummary } from '../../src/roles/summary.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { MemoryDeadLetters, tempDir } from '../helpers.js';
import { scoredPost, testDatabase } from './server.js';

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const LONG_TOPIC = `long-${'y'.repeat(20_000)}`;

function corpus(): ScoredPost[] {
  return Array.from({ length: 20 }, (_, i) => {
    const topics = ['popular', ...Array.from({ length: 200 }, (_, j) => `p${i}-tag${j}`)];
    if (i < 3) topics.push(LONG_TOPIC);
    return scoredPost(T0 + i * 1000, i, { topics });
  });
}

test('#11.3 InfluxQuery topics({ limit, order }) matches SqliteQuery over 4,000 topics; view and summary bounded', async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const posts = corpus();
  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config({ batchSize: 5000 }), dead);
  await sink.write(posts);
  await sink.close();
  assert.deepEqual(dead.letters, []);
  const path = join(tempDir('influx-many-topics'), 'store.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();
  const influx = new InfluxQuery(db.config());
  const sqlite = new SqliteQuery(path);
  t.after(async () => {
    await influx.close();
    await sqlite.close();
  });

  const key = (s: { topic: string; count: number; firstAt: string | undefined; lastAt: string | undefined }): string =>
    `${s.topic.slice(0, 20)}/${s.topic.length} ${s.count} ${s.firstAt} ${s.lastAt}`;
  const requests: TopicsRequest[] = [
    { limit: 51 },
    { order: 'newest', limit: 3 },
    { order: 'oldest', limit: 1 },
    { limit: 3, topics: ['p7-tag3', LONG_TOPIC, 'nope'] },
  ];
  for (const request of requests) {
    assert.deepEqual((await influx.topics(request)).map(key), (await sqlite.topics(request)).map(key), JSON.stringify(request).slice(0, 120));
  }
  const all = await influx.topics();
  assert.equal(all.length, 20 * 200 + 2);

  const view = await sentimentView(influx, { window: 'all', points: 60, top: 8 });
  assert.equal(view.summaries.length, MAX_SUMMARIES);
  assert.equal(view.moreTopics, true);
  assert.deepEqual(
    view.series.slice(0, 2).map((s) => s.topic),
    ['popular', LONG_TOPIC],
  );
  const text = formatSummary({
    linesRead: 20,
    postsStored: 20,
    deadLetters: new Map(),
    unfinished: 0,
    interrupted: undefined,
    seconds: 1,
    modelId: 'test',
    topics: all,
    topicsError: undefined,
    store: 'influxdb',
    deadLetterPath: 'dl',
    metricsUrl: undefined,
  });
  assert.ok(text.length < 20_000, `${text.length} characters`);
  assert.ok(text.includes(`… and ${all.length - 50} more topics`));
});
