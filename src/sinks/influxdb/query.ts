/**
 * SentimentQuery over InfluxDB, in Flux (/api/v2/query: InfluxDB 1.8 with flux-enabled, 2.x, Cloud),
 * through @influxdata/influxdb-client's QueryApi on our undici transport.
 *
 * In count mode without an author cap, aggregation happens in the server per (topic, label[, window]):
 * count(), sum() and the sum of squares of the score field. Weighted opinions and the author cap
 * read the pivoted points and fold them here (src/query/opinions.ts), and so does leaving posts in
 * unsupported languages out (the default; src/query/languages.ts): their flag is a field. Where rollups serve a range
 * (rollup-query.ts), its whole hour windows come from them in either mode and the rest from the
 * points. Either way this module turns the sums into shares, means and their intervals.
 * Values interpolated into Flux go through the client's `flux` template (strings quoted and
 * escaped, so a hostile topic cannot inject Flux).
 */
import { InfluxDB, flux, fluxExpression, type ParameterizedQuery, type QueryApi } from '@influxdata/influxdb-client';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { decodeTagValue } from './line-protocol.js';
import { endpointOf, InfluxHttp } from './transport.js';
import { amplifiedAggregateOf, authorCapOf, DEFAULT_AMPLIFICATION } from '../../query/amplification.js';
import type { WeightedScoreStatistics } from '../../query/intervals.js';
import { OpinionAggregator } from '../../query/opinions.js';
import type { Label } from '../../contract/index.js';
import { EPOCH, isLabel, isUnsupportedRow, opinionRowOf, pivotedRows, postsBase, topicFilter, type Row } from './post-rows.js';
import { RollupReader, type RolledGroups } from './rollup-query.js';
import { excludesUnsupported } from '../../query/languages.js';
import { withLeftOut } from '../../query/left-out.js';
import { isCoverageState, MAX_COVERAGE_EVENTS, type CoverageEvent } from '../../query/coverage.js';
import { coverageMeasurement } from './coverage.js';

/** How far before a range a backfill may start and still reach into it: X's recent search goes back 7 days. */
const BACKFILL_REACH_MS = 8 * 86_400_000;
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

/** Σ count, Σ score and Σ score² per (topic, label[, window]), server-side: every post one opinion (count mode, no cap). */
const SUM_OF_SQUARES = 'map(fn: (r) => ({ r with _value: r._value * r._value })) |> sum() |> yield(name: "sumsq")';

interface LabelSums {
  count: number;
  sum: number;
  sumOfSquares: number;
  byLabel: Record<Label, number>;
}
const newSums = (): LabelSums => ({ count: 0, sum: 0, sumOfSquares: 0, byLabel: { negative: 0, neutral: 0, positive: 0 } });
function addSums(a: LabelSums, r: Row): void {
  const v = Number(r._value);
  if (r.result === 'count') {
    a.count += v;
    if (isLabel(r.label)) a.byLabel[r.label] += v;
  } else if (r.result === 'sum') a.sum += v;
  else if (r.result === 'sumsq') a.sumOfSquares += v;
}
/** Unweighted sums as weighted ones of weight 1 (amplifiedAggregateOf takes one shape). */
const weightedOf = (a: LabelSums): WeightedScoreStatistics => ({
  n: a.count,
  sumOfWeights: a.count,
  sumOfSquaredWeights: a.count,
  weightedSum: a.sum,
  weightedSumOfSquares: a.sumOfSquares,
  weightByLabel: a.byLabel,
});

/** Code-unit order, as SQLite's BINARY collation. */
const compare = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
/** The same orders as the SQLite store's ORDER BY (ISO instants in UTC compare as strings). */
const TOPIC_ORDER: ReadonlyMap<TopicOrder, (x: Omit<TopicSummary, 'leftOut'>, y: Omit<TopicSummary, 'leftOut'>) => number> = new Map([
  ['count', (x, y) => y.count - x.count || compare(x.topic, y.topic)],
  ['newest', (x, y) => compare(y.lastAt ?? '', x.lastAt ?? '') || compare(x.topic, y.topic)],
  ['oldest', (x, y) => compare(x.firstAt ?? '\uffff', y.firstAt ?? '\uffff') || compare(x.topic, y.topic)],
]);

export class InfluxQuery implements SentimentQuery {
  readonly #http: InfluxHttp;
  readonly #api: QueryApi;
  readonly #rollups: RollupReader | undefined;

  /** `rollups: false` reads every range from the posts (benchmarks and tests compare the two). */
  constructor(
    private readonly c: InfluxdbConfig,
    options: { readonly rollups?: boolean } = {},
  ) {
    // Four connections: a query through the rollups reads rollups, marks and the range's ends at once.
    this.#http = new InfluxHttp(endpointOf(c), 4);
    this.#api = new InfluxDB({ url: c.url, token: c.token, transport: this.#http.transport() }).getQueryApi(c.org);
    this.#rollups = options.rollups === false ? undefined : new RollupReader(c, this.#api, (q) => this.#http.queryCsv(q));
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
    return postsBase(this.c, fields, range);
  }

  /**
   * Whether the range needs rows (weighted opinions, an author cap, or posts in unsupported
   * languages left out: the flag is a field, not a tag) or sums the server can make.
   */
  #needsRows(range: TimeRange | undefined): boolean {
    return (range?.amplification ?? DEFAULT_AMPLIFICATION) !== 'count' || authorCapOf(range?.authorCap) !== undefined || excludesUnsupported(range);
  }

  /**
   * Every point of the range as one pivoted row, folded in code by OpinionAggregator into weighted
   * sums per (topic, bucket); `widthMs` undefined = one bucket per topic (a summary). Posts in
   * unsupported languages, when the range leaves them out, are counted per topic instead.
   */
  async #opinionGroups(range: TimeRange | undefined, widthMs: number | undefined): Promise<RolledGroups> {
    const aggregator = new OpinionAggregator(range?.amplification ?? DEFAULT_AMPLIFICATION, authorCapOf(range?.authorCap));
    const excluding = excludesUnsupported(range);
    const leftOut = new Map<string, number>();
    for await (const r of this.#eachRow(pivotedRows(this.c, range))) {
      const row = opinionRowOf(r, (at) => (widthMs === undefined ? 0 : Math.floor(at / widthMs) * widthMs));
      if (row === undefined) continue;
      if (excluding && isUnsupportedRow(r)) leftOut.set(row.topic, (leftOut.get(row.topic) ?? 0) + 1);
      else aggregator.add(row);
    }
    return { groups: aggregator.groups(), leftOut };
  }

  /** Through the rollups where they serve the range (rollup-query.ts), else undefined. */
  #rolledGroups(range: TimeRange | undefined, widthMs: number | undefined): Promise<RolledGroups | undefined> {
    return this.#rollups === undefined ? Promise.resolve(undefined) : this.#rollups.groups(range, widthMs);
  }

  async buckets(range: TimeRange & { readonly bucketSeconds: number }): Promise<SentimentBucket[]> {
    const widthMs = Math.max(1, Math.round(range.bucketSeconds * 1000));
    const out: SentimentBucket[] = [];
    const rolled = await this.#rolledGroups(range, widthMs);
    if (rolled !== undefined || this.#needsRows(range)) {
      for (const g of (rolled ?? (await this.#opinionGroups(range, widthMs))).groups)
        out.push({ topic: g.topic, bucketStart: new Date(g.bucket).toISOString(), ...amplifiedAggregateOf(g.stats, range.minPosts) });
    } else {
      const every = fluxExpression(`${widthMs}ms`);
      const rows = await this.#rows(flux`data = ${this.#base(['score'], range)}
  |> group(columns: ["topic", "label"])
  |> window(every: ${every})
data |> count() |> yield(name: "count")
data |> sum() |> yield(name: "sum")
data |> ${fluxExpression(SUM_OF_SQUARES)}`);
      const acc = new Map<string, { topic: string; bucket: number; a: LabelSums }>();
      for (const r of rows) {
        const topic = decodeTagValue(r.topic as string | undefined);
        const bucket = Math.floor(Date.parse(String(r._start)) / widthMs) * widthMs;
        const key = `${bucket}\u0000${topic}`;
        let entry = acc.get(key);
        if (!entry) acc.set(key, (entry = { topic, bucket, a: newSums() }));
        addSums(entry.a, r);
      }
      for (const { topic, bucket, a } of acc.values())
        out.push({ topic, bucketStart: new Date(bucket).toISOString(), ...amplifiedAggregateOf(weightedOf(a), range.minPosts) });
    }
    return out.sort((x, y) => compare(x.topic, y.topic) || compare(x.bucketStart, y.bucketStart));
  }

  async topics(request?: TopicsRequest): Promise<TopicSummary[]> {
    const summaries: Omit<TopicSummary, 'leftOut'>[] = [];
    let leftOut = new Map<string, number>();
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    const rolled = await this.#rolledGroups(request, undefined);
    if (rolled !== undefined || this.#needsRows(request)) {
      const answer = rolled ?? (await this.#opinionGroups(request, undefined));
      leftOut = answer.leftOut;
      for (const g of answer.groups)
        summaries.push({ topic: g.topic, ...amplifiedAggregateOf(g.stats, request?.minPosts), firstAt: iso(g.firstAt), lastAt: iso(g.lastAt) });
    } else {
      const rows = this.#eachRow(flux`data = ${this.#base(['score'], request)}
data |> group(columns: ["topic", "label"]) |> count() |> yield(name: "count")
data |> group(columns: ["topic", "label"]) |> sum() |> yield(name: "sum")
data |> group(columns: ["topic", "label"]) |> ${fluxExpression(SUM_OF_SQUARES)}
data |> first() |> yield(name: "first")
data |> last() |> yield(name: "last")`);
      const acc = new Map<string, { a: LabelSums; first?: number; last?: number }>();
      for await (const r of rows) {
        const topic = decodeTagValue(r.topic as string | undefined);
        let entry = acc.get(topic);
        if (!entry) acc.set(topic, (entry = { a: newSums() }));
        if (r.result === 'first' || r.result === 'last') {
          // first()/last() run per native series (time-ordered); fold min/max across series here.
          const t = Math.floor(Date.parse(String(r._time)));
          if (r.result === 'first') entry.first = entry.first === undefined ? t : Math.min(entry.first, t);
          else entry.last = entry.last === undefined ? t : Math.max(entry.last, t);
        } else addSums(entry.a, r);
      }
      for (const [topic, { a, first, last }] of acc)
        summaries.push({ topic, ...amplifiedAggregateOf(weightedOf(a), request?.minPosts), firstAt: iso(first), lastAt: iso(last) });
    }
    summaries.sort(TOPIC_ORDER.get(request?.order ?? 'count') ?? TOPIC_ORDER.get('count'));
    const limit = request?.limit === undefined ? undefined : Math.max(0, Math.floor(request.limit));
    return withLeftOut(limit === undefined ? summaries : summaries.slice(0, limit), leftOut, limit, request?.minPosts);
  }

  async coverage(range: { readonly from: Date; readonly to: Date }): Promise<CoverageEvent[]> {
    const m = coverageMeasurement(this.c);
    const rows = await this.#rows(flux`before = from(bucket: ${this.c.bucket})
  |> range(start: ${EPOCH}, stop: ${new Date(range.from.getTime() + 1)})
  |> filter(fn: (r) => r._measurement == ${m})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => r.state != "backfilled")
  |> group()
  |> sort(columns: ["_time"])
  |> last(column: "state")
  |> yield(name: "before")
from(bucket: ${this.c.bucket})
  |> range(start: ${new Date(range.from.getTime() - BACKFILL_REACH_MS)}, stop: ${new Date(range.from.getTime() + 1)})
  |> filter(fn: (r) => r._measurement == ${m})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => r.state == "backfilled")
  |> group()
  |> yield(name: "filled_before")
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
      const at = Math.floor(Date.parse(String(r._time)));
      const detail = typeof r.detail === 'string' ? r.detail : '';
      const until = typeof r.until === 'number' ? r.until : typeof r.until === 'string' && r.until !== '' ? Number(r.until) : undefined;
      // A backfill that ended before the range says nothing about it.
      if (state === 'backfilled' && at <= range.from.getTime() && !(until !== undefined && until > range.from.getTime())) continue;
      events.push(until === undefined || !Number.isFinite(until) ? { at, state, detail } : { at, state, detail, until });
    }
    return events.sort((a, b) => a.at - b.at);
  }

  async shifts(range: ShiftRange): Promise<ShiftEvent[]> {
    const rows = await this.#rows(flux`from(bucket: ${this.c.bucket})
  |> range(start: ${range.from}, stop: ${range.to})
  |> filter(fn: (r) => r._measurement == ${shiftsMeasurement(this.c)} and r._field == "event")
  ${topicFilter(range.topics)}
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
