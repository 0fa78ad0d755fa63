import { test } from 'node:test';
import { uncertaintyOf } from '../../src/query/intervals.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ok, type ScoredPost } from '../../src/contract/index.js';
import { dashboardRoutes, lazyQuery } from '../../src/dashboard/index.js';
import { MAX_SUMMARIES, sentimentView } from '../../src/dashboard/sentiment-view.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { formatSummary, SUMMARY_TABLE_TOPICS, type RunSummary } from '../../src/roles/summary.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';
import { tempDir } from '../helpers.js';

/**
 * The read side over a store that `crowdpulse run` could write from hostile rules: 200 posts with
 * 1,000 distinct tags each (200,000 topics) and a 600,000-character tag. Before #11.3 the summary
 * died with "Invalid string length" / "Maximum call stack size exceeded" and the dashboard API
 * answered 503 from then on.
 */
const POSTS = 200;
const TAGS_PER_POST = 1000;
const HUGE_TOPIC = `huge-${'x'.repeat(600_000)}`;
const dir = tempDir('many-topics');
const dbPath = join(dir, 'many.db');

function post(i: number, topics: string[]): ScoredPost {
  return {
    id: String(1000 + i),
    createdAt: new Date(Date.UTC(2026, 10, 3, 10, 0, i)).toISOString(),
    topics,
    lang: 'en',
    label: 'positive',
    probs: { neg: 0.1, neu: 0.2, pos: 0.7 },
    score: 0.6,
    model: 'test',
    flags: [],
    ingestedAt: 1,
    analyzedAt: 2,
  };
}

const built = (async () => {
  const store = new SqliteStore(dbPath);
  const posts: ScoredPost[] = [];
  for (let i = 0; i < POSTS; i++) {
    const topics = ['popular'];
    for (let j = 0; j < TAGS_PER_POST - 1; j++) topics.push(`p${i}-tag${j}`);
    // The huge tag on two posts: count 2, so it is among the busiest and shown in the table.
    if (i < 2) topics.push(HUGE_TOPIC);
    posts.push(post(i, topics));
  }
  await store.write(posts);
  await store.close();
  return POSTS * (TAGS_PER_POST - 1) + 2;
})();

const summaryOf = (topics: RunSummary['topics'], topicCount?: number): RunSummary => ({
  linesRead: POSTS,
  postsStored: POSTS,
  deadLetters: new Map(),
  unfinished: 0,
  interrupted: undefined,
  seconds: 1,
  modelId: 'test',
  topics,
  ...(topicCount === undefined ? {} : { topicCount }),
  topicsError: undefined,
  store: dbPath,
  deadLetterPath: join(dir, 'dl.ndjson'),
  metricsUrl: undefined,
});

test('#11.3 formatSummary over 200,000 topics and a 600,000-character tag: top 50, cut names, "… and N more topics", bounded', async () => {
  const topicCount = await built;
  const query = new SqliteQuery(dbPath);
  try {
    const all = await query.topics();
    assert.equal(all.length, topicCount);
    const text = formatSummary(summaryOf(all));
    assert.ok(text.length < 20_000, `${text.length} characters`);
    const rows = text.split('\n').filter((l) => /^ {2}\S.* {2}\d+ {2}/.test(l) && !l.startsWith('  topic'));
    assert.equal(rows.length, SUMMARY_TABLE_TOPICS);
    assert.match(rows[0]!, /^ {2}popular +200 /);
    assert.match(rows[1]!, /^ {2}huge-x{54}… +2 /, 'the huge tag is cut to 60 characters with an ellipsis');
    assert.ok(text.includes(`… and ${topicCount - SUMMARY_TABLE_TOPICS} more topics`), text);
    // The store cut the list (what the run reads): the same table, the count from the caller.
    const top = await query.topics({ limit: SUMMARY_TABLE_TOPICS });
    assert.deepEqual(
      top.map((t) => t.topic),
      all.slice(0, SUMMARY_TABLE_TOPICS).map((t) => t.topic),
    );
    assert.equal(formatSummary(summaryOf(top, topicCount)), text);
    // Unsorted input: still the busiest.
    assert.equal(formatSummary(summaryOf(all.slice().reverse())), text);
  } finally {
    await query.close();
  }
});

test('#11.3 formatSummary of one post with 1,000 rules and a 600,000-character tag (was "Invalid string length")', () => {
  const topic = (name: string): RunSummary['topics'][number] => ({
    topic: name,
    count: 1,
    opinions: 1,
    meanScore: 0.6,
    shares: { negative: 0, neutral: 0, positive: 1 },
    ...uncertaintyOf({ n: 1, sum: 0.6, sumOfSquares: 0.36, byLabel: { negative: 0, neutral: 0, positive: 1 } }),
    firstAt: undefined,
    lastAt: undefined,
    leftOut: 0,
  });
  const topics = [topic(HUGE_TOPIC), ...Array.from({ length: 999 }, (_, i) => topic(`rule-${i}`))];
  const text = formatSummary(summaryOf(topics));
  assert.ok(text.length < 20_000, `${text.length} characters`);
  assert.ok(text.includes('… and 950 more topics'));
  // A control character in a tag cannot break the table into more lines.
  const odd = formatSummary(summaryOf([topic('line\nbreak\u0000tag')]));
  assert.ok(odd.includes('line\uFFFDbreak\uFFFDtag'), odd);
});

test('#11.3 the sentiment view and /dashboard/api/sentiment answer 200 over 200,000 topics and a 600,000-character tag', async () => {
  await built;
  const query = new SqliteQuery(dbPath);
  try {
    const view = await sentimentView(query, { window: 'all', points: 60, top: 8 });
    assert.equal(view.summaries.length, MAX_SUMMARIES);
    assert.equal(view.moreTopics, true);
    assert.deepEqual(view.series.map((s) => s.topic).slice(0, 2), ['popular', HUGE_TOPIC]);
    assert.equal(view.series.length, 8);
    assert.equal(
      view.series[0]!.points.reduce((n, p) => n + p.count, 0),
      POSTS,
    );
    assert.equal(view.dataEnd, new Date(Date.UTC(2026, 10, 3, 10, 0, POSTS - 1)).toISOString());
    // A topic outside the top summaries is still charted when asked for by name.
    const named = await sentimentView(query, { window: 'all', points: 60, top: 8, topics: ['p199-tag998', 'no-such-topic'] });
    assert.deepEqual(
      named.series.map((s) => [s.topic, s.points.length]),
      [['p199-tag998', 1]],
    );
  } finally {
    await query.close();
  }
  const server = await startTelemetryServer(
    '127.0.0.1',
    0,
    dashboardRoutes(
      lazyQuery(() => ok(new SqliteQuery(dbPath))),
      { registry: new Registry() },
    ),
  );
  try {
    for (const params of ['window=all', 'window=3600&top=50&at=2026-11-03T10:30:00Z', 'window=all&topics=popular,p3-tag7']) {
      const res = await fetch(`${server.url}/dashboard/api/sentiment?${params}`);
      const body = await res.text();
      assert.equal(res.status, 200, `${params}: ${body.slice(0, 200)}`);
      const view = JSON.parse(body) as { summaries: unknown[]; moreTopics: boolean };
      assert.equal(view.summaries.length, MAX_SUMMARIES, params);
      assert.equal(view.moreTopics, true);
      // Bounded: the top topics (with the huge name in summaries and series), not 200,000 of them.
      assert.ok(body.length < 1_300_000, `${params}: ${body.length} bytes`);
    }
  } finally {
    await server.close();
  }
});
