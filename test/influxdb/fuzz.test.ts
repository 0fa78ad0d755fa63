/**
 * Line-protocol escaping, fuzzed against a real InfluxDB: adversarial topics, languages, model ids,
 * measurement names and string fields (commas, spaces, '=', quotes, backslashes, newlines, '%',
 * '#', control characters, unicode, ~64 KiB values) are written and read back exactly, and the
 * server holds no extra points, tags, fields or measurements (beyond the rollups' own, rollup.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { influxdbSection } from '../../src/config/sections/influxdb.js';
import type { ScoredPost } from '../../src/contract/index.js';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { buildInfluxSink } from '../../src/sinks/influxdb/index.js';
import { decodeTagValue, escapeMeasurement, escapeStringField } from '../../src/sinks/influxdb/line-protocol.js';
import { mulberry32 } from '../../src/model/prng.js';
import { MemoryDeadLetters } from '../helpers.js';
import { scoredPost, testDatabase } from './server.js';

/** Seeded, so a failure reproduces (seed printed in the assertion message). */
const prng = mulberry32;

const PIECES = [
  ',',
  ' ',
  '=',
  '"',
  "'",
  '\\',
  '\n',
  '\r',
  '\t',
  '\\n',
  '\\ ',
  '\\,',
  '\\=',
  '\\"',
  '%',
  '%2C',
  '%%',
  '#',
  '${x}',
  'é',
  'ß',
  '漢字',
  '😀',
  '👩‍👩‍👧',
  '\u0000',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u00a0',
  '\ufeff',
  'a',
  'topic',
  '-',
  '_',
  '.',
  '/',
  ':',
];

function adversarial(random: () => number, maxPieces: number): string {
  let s = '';
  const n = 1 + Math.floor(random() * maxPieces);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(random() * PIECES.length)];
  return s;
}

/** About `bytes` UTF-8 bytes of adversarial text. */
function long(random: () => number, bytes: number): string {
  let s = '';
  while (Buffer.byteLength(s) < bytes) s += adversarial(random, 8);
  return s;
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const T0 = Date.UTC(2026, 10, 1);

test(`adversarial tag values round-trip exactly (seed ${SEED})`, async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const random = prng(SEED);
  const fixed = [
    '',
    ' ',
    ',',
    '=',
    '\\',
    '\\\\',
    'a\\',
    '\n',
    'a\nb',
    'line1\r\nline2',
    ' lead',
    'trail ',
    'a=b,c d',
    '"quoted"',
    '%',
    '%41',
    '#comment',
    'x\u0000y',
    '😀 emoji, ok',
  ];
  const posts: ScoredPost[] = [];
  for (let i = 0; i < 400; i++) {
    const nTopics = 1 + Math.floor(random() * 3);
    const topics = Array.from({ length: nTopics }, (_, k) => (i < fixed.length && k === 0 ? (fixed[i] as string) : adversarial(random, 6)));
    posts.push(
      scoredPost(T0 + i * 1000, i, {
        topics,
        lang: i % 4 === 0 ? adversarial(random, 3) : 'en',
        model: i % 7 === 0 ? `m${adversarial(random, 4)}` : 'model@1',
      }),
    );
  }
  // A topic of 40 KB of adversarial text (larger once escaped) fits InfluxDB's 64 KiB series key; one of 64 KiB cannot.
  const big = long(random, 40_000);
  posts.push(scoredPost(T0 + 500_000, 500, { topics: [big] }));
  const tooBig = 'x'.repeat(65_536);
  const refused = scoredPost(T0 + 501_000, 501, { topics: [tooBig, 'fine'] });
  posts.push(refused);

  const dead = new MemoryDeadLetters();
  const sink = buildInfluxSink(db.config({ batchSize: 97 }), dead);
  await sink.write(posts);
  await sink.close();

  // The 64 KiB topic is refused with a reason, never dropped silently.
  assert.equal(dead.letters.length, 1);
  assert.match(dead.letters[0]?.reason ?? '', /series key/);

  const expected = new Set<string>();
  for (const p of posts) if (p !== refused) for (const topic of new Set(p.topics)) expected.add(JSON.stringify([p.id, topic, p.lang, p.model]));

  const r = await db.influxql('SELECT * FROM "post_sentiment"', 'u');
  const series = r.results[0]?.series ?? [];
  assert.equal(series.length, 1);
  const columns = series[0]?.columns ?? [];
  assert.deepEqual([...columns].sort(), [
    'author_id',
    'flags',
    'label',
    'lang',
    'model',
    'neg',
    'neu',
    'pos',
    'post_id',
    'ref_id',
    'ref_kind',
    'score',
    'slot',
    'time',
    'topic',
  ]);
  const col = (name: string): number => columns.indexOf(name);
  const got = new Set<string>();
  const rows = series[0]?.values ?? [];
  for (const v of rows) {
    got.add(
      JSON.stringify([
        v[col('post_id')],
        decodeTagValue(v[col('topic')] as string | null),
        decodeTagValue(v[col('lang')] as string | null),
        decodeTagValue(v[col('model')] as string | null),
      ]),
    );
  }
  assert.equal(rows.length, expected.size, `points stored (seed ${SEED})`);
  const missing = [...expected].filter((e) => !got.has(e));
  assert.deepEqual(missing, [], `seed ${SEED}`);
  assert.equal(got.size, expected.size);

  const measurements = await db.influxql('SHOW MEASUREMENTS');
  assert.deepEqual(measurements.results[0]?.series?.[0]?.values, [
    ['post_sentiment'],
    ['post_sentiment_rollup'],
    ['post_sentiment_rollup_dirty'],
    ['post_sentiment_rollup_since'],
    ['post_sentiment_rollup_supported'],
  ]);
  // Every (hour, topic) is marked and rolled up under its own topic (the roller pairs marks and posts by the decoded topic).
  const hourOf = (ms: number): number => Math.floor(ms / 3_600_000);
  const pairs = new Set(
    posts.filter((p) => p !== refused).flatMap((p) => [...new Set(p.topics)].map((topic) => JSON.stringify([hourOf(Date.parse(p.createdAt)), topic]))),
  );
  const rolls = await db.influxql(`SELECT "n", "topic" FROM "post_sentiment_rollup" WHERE "lang" = '*' AND "mode" = 'count'`, 'ms');
  const rolled = (rolls.results[0]?.series?.[0]?.values ?? []).map((v) => JSON.stringify([hourOf(Number(v[0])), decodeTagValue(v[2] as string | null)]));
  assert.deepEqual(new Set(rolled), pairs, `rollups (seed ${SEED})`);
  assert.equal(rolled.length, pairs.size);
  const fields = await db.influxql('SHOW FIELD KEYS');
  assert.deepEqual(fields.results[0]?.series?.[0]?.values.map((v) => v.join(':')).sort(), [
    'author_id:string',
    'flags:string',
    'neg:float',
    'neu:float',
    'pos:float',
    'post_id:string',
    'ref_id:string',
    'ref_kind:string',
    'score:float',
  ]);
  const tags = await db.influxql('SHOW TAG KEYS');
  assert.deepEqual(tags.results[0]?.series?.[0]?.values.map((v) => v[0]).sort(), ['label', 'lang', 'model', 'slot', 'topic']);

  // The Flux query layer decodes the same topics, with the same counts.
  const query = new InfluxQuery(db.config());
  t.after(() => query.close());
  const perTopic = new Map<string, number>();
  for (const e of expected) {
    const topic = (JSON.parse(e) as string[])[1] as string;
    perTopic.set(topic, (perTopic.get(topic) ?? 0) + 1);
  }
  const summaries = await query.topics();
  assert.deepEqual(new Map(summaries.map((s) => [s.topic, s.count])), perTopic);
  // Filtering by hostile topics goes through Flux string escaping.
  const some = [...perTopic.keys()].slice(0, 5);
  const filtered = await query.topics({ topics: some });
  assert.deepEqual(filtered.map((s) => s.topic).sort(), [...some].sort());
});

test(`adversarial measurement names and string fields round-trip exactly (seed ${SEED})`, async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const random = prng(SEED + 1);
  // Names the config refuses: line protocol cannot carry them.
  for (const bad of ['a\nb', '#comment', 'trailing\\', '\\', 'tab\there'])
    assert.throws(() => influxdbSection.parse({ measurement: bad }), `measurement ${JSON.stringify(bad)} must be refused`);
  const names = new Set<string>(['a,b', 'a b', 'a=b', 'a\\ b', 'a\\,b', 'a\\\\,b', '"q"', 'ünï cødé 😀', '%41', 'x\\y']);
  while (names.size < 40) {
    const name = adversarial(random, 5);
    if (influxdbSection.safeParse({ measurement: name }).success) names.add(name);
  }
  const dead = new MemoryDeadLetters();
  let i = 0;
  for (const measurement of names) {
    const sink = buildInfluxSink(db.config({ measurement }), dead);
    await sink.write([scoredPost(T0 + i * 1000, i++)]);
    await sink.close();
  }
  assert.equal(dead.letters.length, 0);
  const shown = await db.influxql('SHOW MEASUREMENTS');
  // Each name and its rollup marks and since point (line protocol); `<name>_rollup` and
  // `<name>_rollup_supported` only where the roller could read the marks back: Flux on 1.8 matches no
  // _measurement holding '"' or '='.
  const rollups = new Set([...names].flatMap((n) => [`${n}_rollup`, `${n}_rollup_supported`]));
  const listed = new Set((shown.results[0]?.series?.[0]?.values ?? []).map((v) => v[0] as string));
  for (const n of names) assert.equal(listed.has(`${n}_rollup`), listed.has(`${n}_rollup_supported`), `both rollups of ${JSON.stringify(n)} or neither`);
  assert.deepEqual(
    (shown.results[0]?.series?.[0]?.values ?? [])
      .map((v) => v[0] as string)
      .filter((n) => !rollups.has(n))
      .sort(),
    [...names].flatMap((n) => [n, `${n}_rollup_dirty`, `${n}_rollup_since`]).sort(),
  );

  // String fields (post_id uses escapeStringField): quotes, backslashes, newlines, 64 KiB.
  const values = ['', '"', '\\', '\\"', 'a"b\\c', 'ends with \\', 'line\nbreak', 'crlf\r\n', '\u0000', '😀', long(random, 65_536)];
  for (let k = 0; k < 30; k++) values.push(adversarial(random, 10));
  const body = values.map((v, k) => `${escapeMeasurement('fuzz strings')},k=${k} s=${escapeStringField(v)} ${T0 + k}`).join('\n');
  const res = await db.write(body, 'ms');
  assert.equal(res.status, 204, await res.text());
  const read = await db.influxql('SELECT "s", "k" FROM "fuzz strings"', 'ms');
  const rows = read.results[0]?.series?.[0]?.values ?? [];
  assert.equal(rows.length, values.length);
  for (const v of rows) assert.equal(v[1], values[Number(v[2])], `string field k=${String(v[2])} (seed ${SEED})`);
});
