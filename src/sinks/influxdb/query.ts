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
import { LABELS, type Label } from '../../contract/index.js';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { decodeTagValue, storedTagValue } from './line-protocol.js';
import { endpointOf, InfluxHttp } from './transport.js';
import { uncertaintyOf } from '../../query/intervals.js';
import type { SentimentBucket, SentimentQuery, TimeRange, TopicOrder, TopicsRequest, TopicSummary } from '../../query/sentiment-query.js';

const EPOCH = new Date(0);
/** Flux's largest time; "no end" must include posts dated in the future (replays). */
const END_OF_TIME = new Date('2262-04-11T00:00:00Z');

interface Acc {
  count: number;
  sum: number;
  sumOfSquares: number;
  byLabel: Record<Label, number>;
}
const newAcc = (): Acc => ({ count: 0, sum: 0, sumOfSquares: 0, byLabel: { negative: 0, neutral: 0, positive: 0 } });
const uncertainty = (a: Acc, minPosts: number | undefined) =>
  uncertaintyOf({ n: a.count, sum: a.sum, sumOfSquares: a.sumOfSquares, byLabel: a.byLabel }, minPosts);
/** Σ score² per table, beside count() and sum(): with them the mean's interval is computed here. */
const SUM_OF_SQUARES = 'map(fn: (r) => ({ r with _value: r._value * r._value })) |> sum() |> yield(name: "sumsq")';
const sharesOf = (a: Acc): Record<Label, number> => ({
  negative: a.count === 0 ? 0 : a.byLabel.negative / a.count,
  neutral: a.count === 0 ? 0 : a.byLabel.neutral / a.count,
  positive: a.count === 0 ? 0 : a.byLabel.positive / a.count,
});
const isLabel = (s: string): s is Label => (LABELS as readonly string[]).includes(s);
/** RFC 3339 with up to 9 fraction digits → ISO 8601 with milliseconds. */
const isoMs = (rfc3339: string): string => new Date(Date.parse(rfc3339)).toISOString();

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

  #rows(query: ParameterizedQuery): Promise<Row[]> {
    return this.#api.collectRows<Row>(query, (values, meta) => meta.toObject(values));
  }

  /** Rows one at a time, for answers with a row per topic: a store may hold 200,000 topics. */
  async *#eachRow(query: ParameterizedQuery): AsyncGenerator<Row> {
    for await (const { values, tableMeta } of this.#api.iterateRows(query)) yield tableMeta.toObject(values);
  }

  /** from |> range |> filter(measurement, field[, topics]) for one field. */
  #base(field: string, range: TimeRange | undefined): ParameterizedQuery {
    const topics = range?.topics ?? [];
    let topicFilter = fluxExpression('');
    if (topics.length > 0) {
      // An empty topic is stored as a point without the topic tag.
      const terms = topics.map((t) => (t === '' ? 'not exists r.topic' : flux`r.topic == ${storedTagValue(t)}`.toString()));
      topicFilter = fluxExpression(`|> filter(fn: (r) => ${terms.join(' or ')})`);
    }
    return flux`from(bucket: ${this.c.bucket})
  |> range(start: ${range?.from ?? EPOCH}, stop: ${range?.to ?? END_OF_TIME})
  |> filter(fn: (r) => r._measurement == ${this.c.measurement} and r._field == ${field})
  ${topicFilter}`;
  }

  async buckets(range: TimeRange & { readonly bucketSeconds: number }): Promise<SentimentBucket[]> {
    const widthMs = Math.max(1, Math.round(range.bucketSeconds * 1000));
    const every = fluxExpression(`${widthMs}ms`);
    const rows = await this.#rows(flux`data = ${this.#base('score', range)}
  |> group(columns: ["topic", "label"])
  |> window(every: ${every})
data |> count() |> yield(name: "count")
data |> sum() |> yield(name: "sum")
data |> ${fluxExpression(SUM_OF_SQUARES)}`);
    const acc = new Map<string, { topic: string; bucket: number; a: Acc }>();
    for (const r of rows) {
      const topic = decodeTagValue(r.topic as string | undefined);
      const bucket = Math.floor(Date.parse(String(r._start)) / widthMs) * widthMs;
      const key = `${bucket}\u0000${topic}`;
      let entry = acc.get(key);
      if (!entry) acc.set(key, (entry = { topic, bucket, a: newAcc() }));
      add(entry.a, r);
    }
    return [...acc.values()]
      .sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.bucket - y.bucket))
      .map(({ topic, bucket, a }) => ({
        topic,
        bucketStart: new Date(bucket).toISOString(),
        count: a.count,
        meanScore: a.count === 0 ? 0 : a.sum / a.count,
        shares: sharesOf(a),
        ...uncertainty(a, range.minPosts),
      }));
  }

  async topics(request?: TopicsRequest): Promise<TopicSummary[]> {
    const rows = this.#eachRow(flux`data = ${this.#base('score', request)}
data |> group(columns: ["topic", "label"]) |> count() |> yield(name: "count")
data |> group(columns: ["topic", "label"]) |> sum() |> yield(name: "sum")
data |> group(columns: ["topic", "label"]) |> ${fluxExpression(SUM_OF_SQUARES)}
data |> first() |> yield(name: "first")
data |> last() |> yield(name: "last")`);
    const acc = new Map<string, { a: Acc; first?: number; last?: number }>();
    for await (const r of rows) {
      const topic = decodeTagValue(r.topic as string | undefined);
      let entry = acc.get(topic);
      if (!entry) acc.set(topic, (entry = { a: newAcc() }));
      if (r.result === 'first' || r.result === 'last') {
        // first()/last() run per native series (time-ordered); fold min/max across series here.
        const t = Date.parse(String(r._time));
        if (r.result === 'first') entry.first = entry.first === undefined ? t : Math.min(entry.first, t);
        else entry.last = entry.last === undefined ? t : Math.max(entry.last, t);
      } else {
        add(entry.a, r);
      }
    }
    const summaries = Array.from(acc, ([topic, { a, first, last }]): TopicSummary => ({
      topic,
      count: a.count,
      meanScore: a.count === 0 ? 0 : a.sum / a.count,
      shares: sharesOf(a),
      ...uncertainty(a, request?.minPosts),
      firstAt: first === undefined ? undefined : isoMs(new Date(first).toISOString()),
      lastAt: last === undefined ? undefined : isoMs(new Date(last).toISOString()),
    }));
    summaries.sort(TOPIC_ORDER.get(request?.order ?? 'count') ?? TOPIC_ORDER.get('count'));
    return request?.limit === undefined ? summaries : summaries.slice(0, Math.max(0, Math.floor(request.limit)));
  }

  async integrity(): Promise<{ rowsPerTopic: ReadonlyMap<string, number>; distinctPosts: number; duplicateKeys: number }> {
    const rows = await this.#rows(flux`p = ${this.#base('post_id', undefined)}
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

function add(a: Acc, r: Row): void {
  const label = String((r.label as string | undefined) ?? '');
  const v = Number(r._value);
  if (r.result === 'count') {
    a.count += v;
    if (isLabel(label)) a.byLabel[label] += v;
  } else if (r.result === 'sum') {
    a.sum += v;
  } else if (r.result === 'sumsq') {
    a.sumOfSquares += v;
  }
}
