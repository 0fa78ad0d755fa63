/**
 * SentimentQuery over InfluxDB, in Flux (/api/v2/query: InfluxDB 1.8 with flux-enabled, 2.x, Cloud),
 * through @influxdata/influxdb-client's QueryApi on our undici transport.
 *
 * Aggregation happens in the server per (topic, label[, window]): count(), sum() and the sum of
 * squares of the score field; this module folds labels into shares, means and their intervals.
 * Values interpolated into Flux go through the client's `flux` template (strings quoted and
 * escaped, so a hostile topic cannot inject Flux).
 */
import { InfluxDB, flux, fluxExpression, type ParameterizedQuery, type QueryApi } from '@influxdata/influxdb-client';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { decodeTagValue, storedTagValue } from './line-protocol.js';
import { endpointOf, InfluxHttp } from './transport.js';
import { amplifiedAggregateOf, authorCapOf, DEFAULT_AMPLIFICATION } from '../../query/amplification.js';
import type { WeightedScoreStatistics } from '../../query/intervals.js';
import { isCoverageState, MAX_COVERAGE_EVENTS, type CoverageEvent } from '../../query/coverage.js';
import { coverageMeasurement } from './coverage.js';
import { shiftsMeasurement } from './shifts.js';
import { shiftOfJson } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import {
  MAX_SHIFTS,
  type SentimentBucket,
  type SentimentQuery,
  type ShiftRange,
  type TimeRange,
  type TopicOrder,
  type TopicsRequest,
  type TopicSummary,
} from '../../query/sentiment-query.js';

const EPOCH = new Date(0);
/** Flux's largest time; "no end" must include posts dated in the future (replays). */
const END_OF_TIME = new Date('2262-04-11T00:00:00Z');

/** Σ over opinions, as the Flux below yields them per (topic[, window]): n, sw, sw2, sws, sws2, wneg, wneu, wpos. */
const statisticsOf = (r: Row): WeightedScoreStatistics => ({
  n: Number(r.n),
  sumOfWeights: Number(r.sw),
  sumOfSquaredWeights: Number(r.sw2),
  weightedSum: Number(r.sws),
  weightedSumOfSquares: Number(r.sws2),
  weightByLabel: { negative: Number(r.wneg), neutral: Number(r.wneu), positive: Number(r.wpos) },
});
/** RFC 3339 with up to 9 fraction digits → ISO 8601 with milliseconds. */
const isoMs = (rfc3339: string): string => new Date(Date.parse(rfc3339)).toISOString();

/**
 * The fields one post's point carries, pivoted into one row per point. Every point has all of them
 * ('' when absent, line-protocol.ts). A series written only before they existed (crowdpulse before
 * store schema 2) makes the query fail with a type error on InfluxDB 1.8's Flux: see the README.
 */
const FIELDS = ['score', 'post_id', 'author_id', 'ref_kind', 'ref_id'] as const;
const PIVOT = `pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`;

/**
 * Rows → opinions → sums per (topic, _start), the same steps as the SQLite store's SQL
 * (src/sinks/sqlite/query.ts): an opinion is a post, or in weighted mode a post with the retweets
 * of it in the same (topic, bucket); weight = its rows; scored and labelled as the original when
 * it is among them, else as the mean of the retweets.
 */
const opinionsToSums = (opinionKey: string): string => `map(fn: (r) => ({ r with
      opinion: ${opinionKey},
      original: if r.ref_kind == "retweeted" then 0.0 else 1.0 }))
  |> group(columns: ["topic", "_start", "opinion"])
  |> reduce(
      identity: { w: 0.0, ssum: 0.0, oscore: 0.0, o: 0.0, rneg: 0.0, rneu: 0.0, rpos: 0.0, olabel: "" },
      fn: (r, accumulator) => ({
        w: accumulator.w + 1.0,
        ssum: accumulator.ssum + r.score,
        oscore: accumulator.oscore + r.original * r.score,
        o: accumulator.o + r.original,
        rneg: accumulator.rneg + (if r.label == "negative" then 1.0 else 0.0),
        rneu: accumulator.rneu + (if r.label == "neutral" then 1.0 else 0.0),
        rpos: accumulator.rpos + (if r.label == "positive" then 1.0 else 0.0),
        olabel: if r.original == 1.0 then r.label else accumulator.olabel }))
  |> map(fn: (r) => ({ r with
      s: if r.o > 0.0 then r.oscore / r.o else r.ssum / r.w,
      wneg: if r.olabel == "" then r.rneg else (if r.olabel == "negative" then r.w else 0.0),
      wneu: if r.olabel == "" then r.rneu else (if r.olabel == "neutral" then r.w else 0.0),
      wpos: if r.olabel == "" then r.rpos else (if r.olabel == "positive" then r.w else 0.0) }))
  |> group(columns: ["topic", "_start"])
  |> reduce(
      identity: { n: 0.0, sw: 0.0, sw2: 0.0, sws: 0.0, sws2: 0.0, wneg: 0.0, wneu: 0.0, wpos: 0.0 },
      fn: (r, accumulator) => ({
        n: accumulator.n + 1.0,
        sw: accumulator.sw + r.w,
        sw2: accumulator.sw2 + r.w * r.w,
        sws: accumulator.sws + r.w * r.s,
        sws2: accumulator.sws2 + r.w * r.s * r.s,
        wneg: accumulator.wneg + r.wneg,
        wneu: accumulator.wneu + r.wneu,
        wpos: accumulator.wpos + r.wpos }))`;

const OPINION_KEYS = {
  weighted: 'if r.ref_kind == "retweeted" then r.ref_id else r.post_id',
  count: 'r.post_id',
} as const;

type Row = Record<string, unknown>;

/** Code-unit order, as SQLite's BINARY collation. */
const compare = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
/** The same orders as the SQLite store's ORDER BY (ISO instants in UTC compare as strings). */
const TOPIC_ORDER: ReadonlyMap<TopicOrder, (x: TopicSummary, y: TopicSummary) => number> = new Map([
  ['count', (x, y) => y.count - x.count || compare(x.topic, y.topic)],
  ['newest', (x, y) => compare(y.lastAt ?? '', x.lastAt ?? '') || compare(x.topic, y.topic)],
  ['oldest', (x, y) => compare(x.firstAt ?? '\uffff', y.firstAt ?? '\uffff') || compare(x.topic, y.topic)],
]);

export class InfluxQuery implements SentimentQuery {
  readonly #http: InfluxHttp;
  readonly #api: QueryApi;

  constructor(private readonly c: InfluxdbConfig) {
    this.#http = new InfluxHttp(endpointOf(c), 2);
    this.#api = new InfluxDB({ url: c.url, token: c.token, transport: this.#http.transport() }).getQueryApi(c.org);
  }

  #rows(query: string | ParameterizedQuery): Promise<Row[]> {
    return this.#api.collectRows<Row>(query, (values, meta) => meta.toObject(values));
  }

  /** Rows one at a time, for answers with a row per topic: a store may hold 200,000 topics. */
  async *#eachRow(query: string | ParameterizedQuery): AsyncGenerator<Row> {
    for await (const { values, tableMeta } of this.#api.iterateRows(query)) yield tableMeta.toObject(values);
  }

  /** from |> range |> filter(measurement, fields[, topics][, langs]). */
  #base(fields: readonly string[], range: TimeRange | undefined): ParameterizedQuery {
    const topics = range?.topics ?? [];
    let topicFilter = fluxExpression('');
    if (topics.length > 0) {
      // An empty topic is stored as a point without the topic tag.
      const terms = topics.map((t) => (t === '' ? 'not exists r.topic' : flux`r.topic == ${storedTagValue(t)}`.toString()));
      topicFilter = fluxExpression(`|> filter(fn: (r) => ${terms.join(' or ')})`);
    }
    const langs = range?.langs ?? [];
    const langFilter =
      langs.length === 0
        ? fluxExpression('')
        : fluxExpression(`|> filter(fn: (r) => ${langs.map((l) => flux`r.lang == ${storedTagValue(l)}`.toString()).join(' or ')})`);
    const fieldFilter = fluxExpression(fields.map((f) => flux`r._field == ${f}`.toString()).join(' or '));
    return flux`from(bucket: ${this.c.bucket})
  |> range(start: ${range?.from ?? EPOCH}, stop: ${range?.to ?? END_OF_TIME})
  |> filter(fn: (r) => r._measurement == ${this.c.measurement} and (${fieldFilter}))
  ${topicFilter}
  ${langFilter}`;
  }

  /**
   * One row per point of the range, grouped by topic (and by window when \`everyMs\` is given), with the
   * author cap applied: an author's earliest \`cap\` posts per group are kept; posts of unknown authors
   * are never capped.
   */
  #rowsOf(range: TimeRange | undefined, everyMs: number | undefined): string {
    const grouped = `${this.#base(FIELDS, range).toString()}
  |> ${PIVOT}
  |> group(columns: ["topic"])
  ${everyMs === undefined ? '|> map(fn: (r) => ({ r with _start: 0 }))' : `|> window(every: ${everyMs}ms)`}`;
    const cap = authorCapOf(range?.authorCap);
    if (cap === undefined) return `rows = ${grouped}`;
    return `grouped = ${grouped}
rows = union(tables: [
  grouped |> filter(fn: (r) => r.author_id == ""),
  grouped |> filter(fn: (r) => r.author_id != "")
    |> group(columns: ["topic", "_start", "author_id"]) |> sort(columns: ["_time", "post_id"]) |> limit(n: ${cap})
    |> group(columns: ["topic", "_start"]),
])`;
  }

  #sums(range: TimeRange | undefined): string {
    return `rows |> ${opinionsToSums(OPINION_KEYS[range?.amplification ?? DEFAULT_AMPLIFICATION])} |> yield(name: "sums")`;
  }

  async buckets(range: TimeRange & { readonly bucketSeconds: number }): Promise<SentimentBucket[]> {
    const widthMs = Math.max(1, Math.round(range.bucketSeconds * 1000));
    const rows = await this.#rows(`${this.#rowsOf(range, widthMs)}\n${this.#sums(range)}`);
    const out: SentimentBucket[] = [];
    for (const r of rows) {
      const topic = decodeTagValue(r.topic as string | undefined);
      const bucket = Math.floor(Date.parse(String(r._start)) / widthMs) * widthMs;
      out.push({ topic, bucketStart: new Date(bucket).toISOString(), ...amplifiedAggregateOf(statisticsOf(r), range.minPosts) });
    }
    return out.sort((x, y) => compare(x.topic, y.topic) || compare(x.bucketStart, y.bucketStart));
  }

  async topics(request?: TopicsRequest): Promise<TopicSummary[]> {
    const rows = this.#eachRow(
      `${this.#rowsOf(request, undefined)}
${this.#sums(request)}
rows |> sort(columns: ["_time"]) |> first(column: "score") |> yield(name: "first")
rows |> sort(columns: ["_time"]) |> last(column: "score") |> yield(name: "last")`,
    );
    const acc = new Map<string, { sums?: Row; first?: number; last?: number }>();
    for await (const r of rows) {
      const topic = decodeTagValue(r.topic as string | undefined);
      let entry = acc.get(topic);
      if (!entry) acc.set(topic, (entry = {}));
      // One row per table; the author cap's union leaves two tables per topic: fold min/max across them.
      const t = Date.parse(String(r._time));
      if (r.result === 'first') entry.first = entry.first === undefined ? t : Math.min(entry.first, t);
      else if (r.result === 'last') entry.last = entry.last === undefined ? t : Math.max(entry.last, t);
      else entry.sums = r;
    }
    const summaries: TopicSummary[] = [];
    for (const [topic, { sums, first, last }] of acc) {
      if (sums === undefined) continue;
      summaries.push({
        topic,
        ...amplifiedAggregateOf(statisticsOf(sums), request?.minPosts),
        firstAt: first === undefined ? undefined : isoMs(new Date(first).toISOString()),
        lastAt: last === undefined ? undefined : isoMs(new Date(last).toISOString()),
      });
    }
    summaries.sort(TOPIC_ORDER.get(request?.order ?? 'count') ?? TOPIC_ORDER.get('count'));
    return request?.limit === undefined ? summaries : summaries.slice(0, Math.max(0, Math.floor(request.limit)));
  }

  async coverage(range: { readonly from: Date; readonly to: Date }): Promise<CoverageEvent[]> {
    const m = coverageMeasurement(this.c);
    const rows = await this.#rows(flux`before = from(bucket: ${this.c.bucket})
  |> range(start: ${EPOCH}, stop: ${new Date(range.from.getTime() + 1)})
  |> filter(fn: (r) => r._measurement == ${m})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> last(column: "state")
  |> yield(name: "before")
from(bucket: ${this.c.bucket})
  |> range(start: ${new Date(range.from.getTime() + 1)}, stop: ${range.to})
  |> filter(fn: (r) => r._measurement == ${m})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: ${MAX_COVERAGE_EVENTS})
  |> yield(name: "within")`);
    const events: CoverageEvent[] = [];
    for (const r of rows) {
      const state = r.state;
      if (!isCoverageState(state)) continue;
      events.push({ at: Math.floor(Date.parse(String(r._time))), state, detail: typeof r.detail === 'string' ? r.detail : '' });
    }
    return events.sort((a, b) => a.at - b.at);
  }

  async shifts(range: ShiftRange): Promise<ShiftEvent[]> {
    const topics = range.topics ?? [];
    const topicFilter =
      topics.length === 0
        ? fluxExpression('')
        : fluxExpression(
            `|> filter(fn: (r) => ${topics.map((t) => (t === '' ? 'not exists r.topic' : flux`r.topic == ${storedTagValue(t)}`.toString())).join(' or ')})`,
          );
    const rows = await this.#rows(flux`from(bucket: ${this.c.bucket})
  |> range(start: ${range.from}, stop: ${range.to})
  |> filter(fn: (r) => r._measurement == ${shiftsMeasurement(this.c)} and r._field == "event")
  ${topicFilter}
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: ${Math.min(range.limit ?? MAX_SHIFTS, MAX_SHIFTS)})`);
    const events = rows.map((r) => (typeof r._value === 'string' ? shiftOfJson(r._value) : undefined)).filter((e): e is ShiftEvent => e !== undefined);
    return events.sort((a, b) => compare(a.detectedAt, b.detectedAt) || compare(a.topic, b.topic) || compare(a.kind, b.kind));
  }

  async integrity(): Promise<{ rowsPerTopic: ReadonlyMap<string, number>; distinctPosts: number; duplicateKeys: number }> {
    const rows = await this.#rows(flux`p = ${this.#base(['post_id'], undefined)}
p |> group(columns: ["topic"]) |> count() |> yield(name: "rows")
p |> group(columns: ["topic"]) |> distinct() |> count() |> yield(name: "distinct_per_topic")
p |> group() |> distinct() |> count() |> yield(name: "distinct")`);
    const rowsPerTopic = new Map<string, number>();
    let distinctPerTopic = 0;
    let distinctPosts = 0;
    for (const r of rows) {
      const n = Number(r._value);
      if (r.result === 'rows') rowsPerTopic.set(decodeTagValue(r.topic as string | undefined), n);
      else if (r.result === 'distinct_per_topic') distinctPerTopic += n;
      else if (r.result === 'distinct') distinctPosts += n;
    }
    let total = 0;
    for (const n of rowsPerTopic.values()) total += n;
    // Points that share a (post, topic): the same post stored under two labels, models or slots.
    return { rowsPerTopic, distinctPosts, duplicateKeys: total - distinctPerTopic };
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
