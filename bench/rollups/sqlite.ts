/**
 * Rollups of the embedded store (#13.7): N days of P posts a day written through the real
 * SqliteStore (its roller rolls windows up as they go quiet, the rest at the end), then the
 * dashboard's 30-day view and the queries under it timed with rollups and from the rows alone.
 * Standalone, like bench/shifts:
 *
 *   node --import tsx bench/rollups/sqlite.ts                           # 30 days × 1,000,000 posts (~30 M rows, ~15 min, ~7 GB)
 *   node --import tsx bench/rollups/sqlite.ts --per-day 20000 --repeats 5
 *
 * Options: --days [30], --per-day [1000000], --topics [8], --repeats [7] (rollup queries),
 * --rows-repeats [1] (the same from the rows alone; slow at full size), --db [a temp file, deleted
 * after], --keep, --seed [1], --out [bench/results]. Writes OUT/rollups-sqlite-<UTC date>-<per-day>.md.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScoredPost } from '../../src/contract/index.js';
import { sentimentView } from '../../src/dashboard/sentiment-view.js';
import type { SentimentQuery } from '../../src/query/sentiment-query.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { machine } from '../lib/machine.js';
import { spread, type Spread } from '../lib/stats.js';
import { mulberry32 } from '../../src/model/prng.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    'per-day': { type: 'string', default: '1000000' },
    topics: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '7' },
    'rows-repeats': { type: 'string', default: '1' },
    db: { type: 'string' },
    keep: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results' },
  },
});
const days = Number(values.days);
const perDay = Number(values['per-day']);
const topicCount = Number(values.topics);
const repeats = Number(values.repeats);
const rowsRepeats = Number(values['rows-repeats']);
const started = performance.now();
const progress = (s: string): void => void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}\n`);

const DAY = 86_400_000;
/** The newest day ends at the last midnight: every window of the range is whole and quiet. */
const END = Math.floor(Date.now() / DAY) * DAY;
const START = END - days * DAY;
const TOPICS = Array.from({ length: topicCount }, (_, i) => `topic-${i}`);
const SNOWFLAKE_EPOCH = 1_288_834_974_657n;
const BATCH = 5000;

/** Posts in time order: 70 % en / 20 % es / 10 % und, a fifth retweets of a recent post, seeded scores with a daily swing. */
function* batches(): Generator<ScoredPost[]> {
  const next = mulberry32(Number(values.seed));
  const total = days * perDay;
  const step = (days * DAY) / total;
  const recent: string[] = [];
  let batch: ScoredPost[] = [];
  for (let i = 0; i < total; i += 1) {
    const at = Math.floor(START + i * step);
    const id = (((BigInt(at) - SNOWFLAKE_EPOCH) << 22n) | BigInt(i % 4_194_304)).toString();
    const topic = TOPICS[i % topicCount] as string;
    const swing = Math.sin((2 * Math.PI * (at % DAY)) / DAY) * 0.2;
    const score = Math.max(-1, Math.min(1, swing + (next() * 2 - 1) * 0.7));
    const label = score > 0.3 ? 'positive' : score < -0.3 ? 'negative' : 'neutral';
    const lang = next() < 0.7 ? 'en' : next() < 0.67 ? 'es' : 'und';
    const retweet = recent.length > 0 && next() < 0.2;
    const refId = retweet ? recent[Math.floor(next() * recent.length)] : undefined;
    const neg = Math.max(0, -score);
    const pos = Math.max(0, score);
    batch.push({
      id,
      createdAt: new Date(at).toISOString(),
      topics: [topic],
      lang,
      label,
      probs: { neg, neu: 1 - neg - pos, pos },
      score,
      model: 'bench@1',
      flags: [],
      ingestedAt: at,
      analyzedAt: at,
      authorId: String(Math.floor(next() * 100_000)),
      ...(refId === undefined ? {} : { refKind: 'retweeted' as const, refId }),
    });
    if (!retweet) {
      recent.push(id);
      if (recent.length > 500) recent.shift();
    }
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

const dir = values.db === undefined ? mkdtempSync(join(tmpdir(), 'cp-rollups-')) : undefined;
const path = values.db ?? join(dir as string, 'store.db');
progress(`writing ${days} days × ${perDay.toLocaleString('en')} posts (${topicCount} topics) into ${path}`);
const store = new SqliteStore(path);
const writeStart = performance.now();
let written = 0;
for (const batch of batches()) {
  await store.write(batch);
  written += batch.length;
  // Between batches, as in the pipeline: the store's roller gets the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  if (written % 1_000_000 === 0) progress(`${written.toLocaleString('en')} posts, ${store.pendingRollups()} windows to roll up`);
}
const writeSeconds = (performance.now() - writeStart) / 1000;
const pendingAtEnd = store.pendingRollups();
const rollStart = performance.now();
const final = store.rollAll(3_600_000);
const rollSeconds = (performance.now() - rollStart) / 1000;
await store.close();
const bytes = statSync(path).size;
progress(`written in ${writeSeconds.toFixed(0)} s; ${pendingAtEnd} windows were left to roll up at the end, rolled in ${rollSeconds.toFixed(1)} s`);

interface Case {
  readonly name: string;
  readonly run: (query: SentimentQuery) => Promise<unknown>;
}
const range = { from: new Date(START), to: new Date(END) };
const cases: Case[] = [
  {
    name: `dashboard view, ${days} days (topics, newest, buckets of its width)`,
    run: (q) => sentimentView(q, { window: days * 86_400, at: END - 1, points: 60, top: 8 }),
  },
  { name: 'buckets of 1 h, every topic, weighted', run: (q) => q.buckets({ ...range, bucketSeconds: 3600 }) },
  { name: 'buckets of 1 day, every topic, weighted', run: (q) => q.buckets({ ...range, bucketSeconds: 86_400 }) },
  {
    name: 'buckets of 1 h, one topic, language es, count',
    run: (q) => q.buckets({ ...range, bucketSeconds: 3600, topics: ['topic-1'], langs: ['es'], amplification: 'count' }),
  },
  { name: 'topic summaries over the range, weighted', run: (q) => q.topics(range) },
];

async function timed(query: SentimentQuery, c: Case, n: number): Promise<Spread> {
  const ms: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = performance.now();
    await c.run(query);
    ms.push(performance.now() - t);
  }
  return spread(ms);
}

const withRollups = new SqliteQuery(path);
const rowsOnly = new SqliteQuery(path, { rollups: false });
const results: { name: string; rollups: Spread; rows: Spread | undefined }[] = [];
for (const c of cases) {
  await c.run(withRollups); // warm the page cache once
  const rollups = await timed(withRollups, c, repeats);
  progress(`${c.name}: rollups median ${rollups.median.toFixed(1)} ms`);
  const rows = rowsRepeats > 0 ? await timed(rowsOnly, c, rowsRepeats) : undefined;
  if (rows) progress(`${c.name}: rows median ${rows.median.toFixed(0)} ms`);
  results.push({ name: c.name, rollups, rows });
}
// The two paths answer alike (rollup-plan.ts): checked here on the full data as well.
const [a, b] = [await withRollups.topics(range), await rowsOnly.topics(range)];
const agree =
  a.length === b.length && a.every((s, i) => s.topic === b[i]?.topic && s.count === b[i]?.count && Math.abs(s.meanScore - (b[i]?.meanScore ?? NaN)) < 1e-9);
await Promise.all([withRollups.close(), rowsOnly.close()]);
if (!values.keep && dir !== undefined) rmSync(dir, { recursive: true, force: true });

const m = machine();
const ms = (s: Spread): string => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
const md = `# Rollups of the embedded store, ${new Date().toISOString().slice(0, 16)} UTC

\`node --import tsx bench/rollups/sqlite.ts --days ${days} --per-day ${perDay} --topics ${topicCount} --repeats ${repeats} --rows-repeats ${rowsRepeats}\`

Machine: ${m.cpuModel}, ${m.cores} cores, load average at start ${m.loadAverageAtStart.map((x) => x.toFixed(1)).join(' / ')}.

- ${(days * perDay).toLocaleString('en')} posts (${days} days × ${perDay.toLocaleString('en')}, ${topicCount} topics, a fifth retweets, three languages) written through SqliteStore in batches of ${BATCH}: ${writeSeconds.toFixed(0)} s (${((writeSeconds * 1e6) / (days * perDay)).toFixed(1)} µs per post, rolling included); file ${(bytes / 2 ** 30).toFixed(2)} GiB.
- The roller rolled windows up as they went quiet while writing; ${pendingAtEnd} (topic, hour) windows were left at the end and took ${rollSeconds.toFixed(1)} s (${final.rolled} rolled, ${final.left} left).
- Rollups and rows answered the range's topic summaries alike: ${agree ? 'yes' : 'NO'}.

| query over ${days} days | with rollups, ms: median (min–max) of ${repeats} | rows alone, ms (${rowsRepeats} run${rowsRepeats === 1 ? '' : 's'}) |
| --- | --- | --- |
${results.map((r) => `| ${r.name} | ${ms(r.rollups)} | ${r.rows ? ms(r.rows) : '—'} |`).join('\n')}
`;
mkdirSync(values.out, { recursive: true });
const file = join(values.out, `rollups-sqlite-${new Date().toISOString().slice(0, 10)}-${perDay}.md`);
writeFileSync(file, md);
progress(`wrote ${file}`);
if (!agree) process.exitCode = 1;
