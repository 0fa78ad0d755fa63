/**
 * #13.7: do InfluxDB rollups keep the dashboard's queries fast as posts per day grow? For each
 * POSTS_PER_DAY: writes DAYS days of scored posts (8 topics, 3 languages, a quarter retweets)
 * through the real InfluxSink (its roller rolling as it goes) into a fresh database whose since
 * point precedes them (a store that has run with rollups all along), closes the sink (the roller
 * finishes), then times the dashboard's queries over the whole range with ragged ends — weighted,
 * buckets of 1 h and 1 day, and the topics() summary — through the rollups and from the posts only
 * (medians; the two alternate run by run), checks that both answer the same, and writes
 * bench/results/rollups-influxdb-<date>.md.
 *
 *   bash scripts/influxdb.sh up
 *   node --import tsx bench/rollups/influxdb.ts
 *   INFLUX_URL=http://127.0.0.1:38086 DAYS=30 POSTS_PER_DAY=5000,20000 RUNS=5 ROWS_RUNS=3 node --import tsx bench/rollups/influxdb.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { influxdbSection, type InfluxdbConfig } from '../../src/config/sections/influxdb.js';
import { LABELS, type DeadLetter, type ScoredPost } from '../../src/contract/index.js';
import type { SentimentBucket, TopicSummary } from '../../src/query/sentiment-query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { encodeSince } from '../../src/sinks/influxdb/rollup.js';
import { REPO } from '../lib/child.js';
import { spread, type Spread } from '../lib/stats.js';

const URL = process.env.INFLUX_URL ?? process.env.CROWDPULSE_INFLUXDB_URL ?? 'http://127.0.0.1:18086';
const DAYS = Number(process.env.DAYS ?? 30);
const PER_DAY = (process.env.POSTS_PER_DAY ?? '5000').split(',').map(Number);
const RUNS = Number(process.env.RUNS ?? 5);
const ROWS_RUNS = Number(process.env.ROWS_RUNS ?? 3);
const TOPICS = ['markets', 'climate', 'sport', 'elections', 'ai', 'music', 'health', 'space'];
const LANGS = ['en', 'es', 'de'];
const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1);
const SNOWFLAKE_EPOCH = 1_288_834_974_657n;

async function influxql(q: string, db?: string): Promise<unknown> {
  const res = await fetch(`${URL}/query`, { method: 'POST', body: new URLSearchParams({ q, ...(db ? { db } : {}) }) });
  if (!res.ok) throw new Error(`InfluxQL ${q}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** One day of posts in time order: topic by a skewed draw, a quarter retweets of a post of the last minutes. */
function day(d: number, perDay: number, random: () => number): ScoredPost[] {
  const posts: ScoredPost[] = [];
  const step = DAY / perDay;
  for (let i = 0; i < perDay; i++) {
    const created = Math.floor(START + d * DAY + i * step);
    const neg = random() * 0.6;
    const pos = random() * (1 - neg);
    const topic = TOPICS[Math.min(TOPICS.length - 1, Math.floor(-Math.log(1 - random()) * 2.5))] as string;
    const target = posts.length > 0 && random() < 0.25 ? posts[Math.max(0, posts.length - 1 - Math.floor(random() * 50))] : undefined;
    posts.push({
      id: (((BigInt(created) - SNOWFLAKE_EPOCH) << 22n) | BigInt(i % 4_000_000)).toString(),
      createdAt: new Date(created).toISOString(),
      topics: random() < 0.1 ? [topic, TOPICS[(TOPICS.indexOf(topic) + 1) % TOPICS.length] as string] : [topic],
      lang: LANGS[Math.floor(random() * random() * LANGS.length)] as string,
      label: LABELS[Math.floor(random() * 3)] as ScoredPost['label'],
      probs: { neg, neu: 1 - neg - pos, pos },
      score: pos - neg,
      model: 'fast@1',
      flags: [],
      authorId: String(Math.floor(random() * perDay)),
      ...(target ? { refKind: 'retweeted' as const, refId: target.id } : {}),
      ingestedAt: created + 3,
      analyzedAt: created + 8,
    });
  }
  return posts;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
function same(a: (SentimentBucket | TopicSummary)[], b: (SentimentBucket | TopicSummary)[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i] as SentimentBucket | TopicSummary;
      const start = (s: SentimentBucket | TopicSummary): string => ('bucketStart' in s ? s.bucketStart : '');
      return (
        x.topic === y.topic &&
        start(x) === start(y) &&
        x.count === y.count &&
        x.opinions === y.opinions &&
        close(x.meanScore, y.meanScore) &&
        close(x.scoreStdDev, y.scoreStdDev)
      );
    })
  );
}

interface Measured {
  readonly perDay: number;
  readonly posts: number;
  readonly points: number;
  readonly writeSeconds: number;
  readonly closeSeconds: number;
  readonly rollupPoints: number;
  readonly queries: { readonly name: string; readonly rolled: Spread; readonly rows: Spread; readonly same: boolean; readonly answers: number }[];
}

async function measure(perDay: number): Promise<Measured> {
  const db = `cp_bench_rollups_${perDay}_${Date.now()}`;
  await influxql(`CREATE DATABASE "${db}"`);
  const config: InfluxdbConfig = { ...influxdbSection.parse({ url: URL, bucket: `${db}/autogen` }), rollupCloseMs: 900_000 };
  try {
    // A store that has run with rollups since before these posts.
    const since = await fetch(`${URL}/api/v2/write?org=-&bucket=${db}/autogen&precision=ns`, {
      method: 'POST',
      body: encodeSince(START - DAY, Date.now(), config),
    });
    if (since.status !== 204) throw new Error(`since point: HTTP ${since.status}`);
    const dead: DeadLetter[] = [];
    const sink = buildInfluxSink(config, { write: async (l) => void dead.push(...l), close: async () => undefined });
    let seed = 7;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    let posts = 0;
    let points = 0;
    const writeStart = performance.now();
    for (let d = 0; d < DAYS; d++) {
      const batch = day(d, perDay, random);
      for (let i = 0; i < batch.length; i += 10_000) await sink.write(batch.slice(i, i + 10_000));
      posts += batch.length;
      for (const p of batch) points += p.topics.length;
      process.stderr.write(`\r${perDay}/day: day ${d + 1}/${DAYS} written (${((performance.now() - writeStart) / 1000).toFixed(0)} s)`);
    }
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const closeStart = performance.now();
    await sink.close();
    const closeSeconds = (performance.now() - closeStart) / 1000;
    process.stderr.write(`\n${perDay}/day: ${posts} posts written in ${writeSeconds.toFixed(1)} s, roller done ${closeSeconds.toFixed(1)} s after\n`);
    if (dead.length > 0) throw new Error(`${dead.length} posts dead-lettered: ${dead[0]?.reason}`);
    const counted = (await influxql('SELECT count("rolled_through") FROM "post_sentiment_rollup"', db)) as { results: { series?: { values: number[][] }[] }[] };
    const rollupPoints = Number(counted.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);

    // The dashboard's 30 days, with ragged ends (a range that starts and ends inside an hour).
    const range = { from: new Date(START + 17 * 60_000), to: new Date(START + DAYS * DAY - 23 * 60_000), amplification: 'weighted' as const };
    const rolled = new InfluxQuery(config);
    const rows = new InfluxQuery(config, { rollups: false });
    const queries: Measured['queries'][number][] = [];
    const cases: [string, (q: InfluxQuery) => Promise<(SentimentBucket | TopicSummary)[]>][] = [
      ['buckets, 1 h', (q) => q.buckets({ ...range, bucketSeconds: 3600 })],
      ['buckets, 1 day', (q) => q.buckets({ ...range, bucketSeconds: 86_400 })],
      ['topics() summary', (q) => q.topics(range)],
    ];
    for (const [name, run] of cases) {
      const a = await run(rolled); // warm-up (and the since point, cached)
      const b = await run(rows);
      const timesRolled: number[] = [];
      const timesRows: number[] = [];
      for (let i = 0; i < Math.max(RUNS, ROWS_RUNS); i++) {
        if (i < RUNS) {
          const t = performance.now();
          await run(rolled);
          timesRolled.push(performance.now() - t);
        }
        if (i < ROWS_RUNS) {
          const t = performance.now();
          await run(rows);
          timesRows.push(performance.now() - t);
        }
      }
      queries.push({ name, rolled: spread(timesRolled), rows: spread(timesRows), same: same(a, b), answers: a.length });
      process.stderr.write(
        `${perDay}/day ${name}: rollups ${spread(timesRolled).median.toFixed(0)} ms, posts only ${spread(timesRows).median.toFixed(0)} ms\n`,
      );
    }
    await rolled.close();
    await rows.close();
    return { perDay, posts, points, writeSeconds, closeSeconds, rollupPoints, queries };
  } finally {
    await influxql(`DROP DATABASE "${db}"`).catch(() => undefined);
  }
}

const results: Measured[] = [];
for (const perDay of PER_DAY) results.push(await measure(perDay));

const ms = (s: Spread): string => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)}, n=${s.samples.length})`;
const date = new Date().toISOString().slice(0, 10);
const lines = [
  `# InfluxDB rollups: dashboard queries over ${DAYS} days (${date})`,
  '',
  `\`${['INFLUX_URL=' + URL, `DAYS=${DAYS}`, `POSTS_PER_DAY=${PER_DAY.join(',')}`, `RUNS=${RUNS}`, `ROWS_RUNS=${ROWS_RUNS}`].join(' ')} node --import tsx bench/rollups/influxdb.ts\``,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, shared with other work (load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}); InfluxDB 1.8.10 on the same machine. Posts written through the real InfluxSink (batches of 10,000, its roller rolling`,
  `as it went, defaults rollupIntervalMs = rollupQuietMs = 5000), 8 topics, 3 languages, a quarter retweets. Queries: weighted, all topics, the whole`,
  `range with ragged ends (from 00:17 on the first day to 23:37 on the last), rollups vs posts only; medians with (min–max).`,
  '',
  '| posts/day | posts (points) | write | roller after the last write | rollup points | query | rollups | posts only | same answer |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.flatMap((r) =>
    r.queries.map(
      (q, i) =>
        `| ${i === 0 ? r.perDay.toLocaleString('en') : ''} | ${i === 0 ? `${r.posts.toLocaleString('en')} (${r.points.toLocaleString('en')})` : ''} | ${i === 0 ? `${r.writeSeconds.toFixed(0)} s` : ''} | ${i === 0 ? `${r.closeSeconds.toFixed(1)} s` : ''} | ${i === 0 ? r.rollupPoints.toLocaleString('en') : ''} | ${q.name} (${q.answers} rows) | ${ms(q.rolled)} | ${ms(q.rows)} | ${q.same ? 'yes' : 'NO'} |`,
    ),
  ),
  '',
];
mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
const file = join(REPO, 'bench', 'results', `rollups-influxdb-${date}.md`);
writeFileSync(file, lines.join('\n'));
process.stdout.write(lines.join('\n') + `\nwritten to ${file}\n`);
