/**
 * Reading a range through the rollups (rollup.ts, src/query/rollup-plan.ts): the whole windows from
 * the earliest since point on come from `<measurement>_rollup` where they are clean (rolled_through
 * ≥ the mark's touched); windows marked after their roll, windows before since and the range's
 * ragged ends come from the posts, folded by OpinionAggregator; mergeParts adds it all up per
 * (topic, bucket). The answer equals the posts-only one (up to float rounding). A range that leaves
 * posts in unsupported languages out (the default) reads `<measurement>_rollup_supported` and leaves
 * them out of the posts it reads, counting them.
 */
import { flux, fluxExpression, type ParameterizedQuery, type QueryApi } from '@influxdata/influxdb-client';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { OPINION_WINDOW_MS, opinionWindowOf } from '../../query/amplification.js';
import { OpinionAggregator, type OpinionGroup } from '../../query/opinions.js';
import { ALL_LANGUAGES, bucketOf, mergeParts, rollupPlan, type Span } from '../../query/rollup-plan.js';
import type { TimeRange } from '../../query/sentiment-query.js';
import { decodeTagValue, storedTagValue } from './line-protocol.js';
import { beforeStop, END_OF_TIME, EPOCH, isUnsupportedRow, opinionRowOf, pivotedRows, topicFilter, type Row, type RowsRange } from './post-rows.js';
import { fluxCsvRows, type CsvRow } from './flux-csv.js';
import { dirtyMeasurement, groupOfRollup, pairKey, rollupMeasurement, sinceMeasurement, supportedRollupMeasurement } from './rollup.js';

/** A range's (topic, bucket) sums, and the posts left out per topic (unsupported languages; empty when they are included). */
export interface RolledGroups {
  readonly groups: OpinionGroup[];
  readonly leftOut: Map<string, number>;
}

/** Marked windows read from the posts in at most this many queries (runs of windows further apart are merged). */
const MAX_DIRTY_READS = 4;
/** Topics named in one such query's filter at most. */
const MAX_TOPICS_IN_FILTER = 64;

export class RollupReader {
  #since: number | undefined;

  constructor(
    private readonly c: InfluxdbConfig,
    private readonly api: QueryApi,
    private readonly csv: (query: string) => Promise<string>,
  ) {}

  /** The earliest since point (cached once found), or undefined while none is written. */
  async since(): Promise<number | undefined> {
    if (this.#since !== undefined) return this.#since;
    const rows = await this.api.collectRows<Row>(
      flux`from(bucket: ${this.c.bucket}) |> range(start: ${EPOCH}, stop: ${END_OF_TIME}) |> filter(fn: (r) => r._measurement == ${sinceMeasurement(this.c)}) |> first()`,
      (values, meta) => meta.toObject(values),
    );
    for (const r of rows) {
      const t = Math.floor(Date.parse(String(r._time)));
      if (Number.isFinite(t)) this.#since = Math.min(this.#since ?? t, t);
    }
    return this.#since;
  }

  /**
   * The (topic, bucket) sums of a range through the rollups; `widthMs` undefined = a summary. Undefined
   * when rollups cannot serve it (rollupPlan says rows only, no since point yet, or the range
   * ends before since): the caller reads the posts as before.
   */
  async groups(range: TimeRange | undefined, widthMs: number | undefined): Promise<RolledGroups | undefined> {
    const plan = rollupPlan(range, widthMs);
    // '' (no lang tag) and a language called '*' have no rollups of their own.
    const onlyLang = range?.langs?.length === 1 ? range.langs[0] : undefined;
    if (plan?.windows === undefined || onlyLang === '' || onlyLang === ALL_LANGUAGES) return undefined;
    const since = await this.since();
    if (since === undefined) return undefined;
    const from = Math.max(plan.windows.from ?? since, since);
    const to = plan.windows.to ?? END_OF_TIME.getTime();
    if (from >= to) return undefined;

    const rowSpans: Span[] = [...plan.rows];
    if (plan.windows.from === undefined || plan.windows.from < since)
      rowSpans.push({ ...(plan.windows.from === undefined ? {} : { from: plan.windows.from }), to: since });

    // The posts of the ragged ends and of the windows before since, read while the rollups are.
    const aggregator = new OpinionAggregator(plan.mode, undefined);
    const leftOut = plan.supportedOnly ? new Map<string, number>() : undefined;
    const base: RowsRange = { ...(range?.topics ? { topics: range.topics } : {}), ...(range?.langs ? { langs: range.langs } : {}) };
    const spans = Promise.all(
      rowSpans.map((s) =>
        this.#fold(
          aggregator,
          leftOut,
          { ...base, ...(s.from === undefined ? {} : { from: new Date(s.from) }), ...(s.to === undefined ? {} : { to: new Date(s.to) }) },
          widthMs,
        ),
      ),
    );
    spans.catch(() => undefined); // awaited below; not unhandled if the rollups fail first

    // Rollups of the plan's mode and language, with the '*' ones' rolled_through (a language without
    // posts in a window has no point of its own there), and the marks: two requests at once.
    const star = plan.lang === ALL_LANGUAGES ? fluxExpression('') : fluxExpression(` or (r.lang == "*" and r._field == "rolled_through")`);
    const collect = async (query: ParameterizedQuery): Promise<CsvRow[]> => fluxCsvRows(await this.csv(query.toString()));
    const [rollupRows, markRows] = await Promise.all([
      collect(flux`from(bucket: ${this.c.bucket})
  |> range(start: ${new Date(from)}, stop: ${new Date(to)})
  |> filter(fn: (r) => r._measurement == ${plan.supportedOnly ? supportedRollupMeasurement(this.c) : rollupMeasurement(this.c)} and r.mode == ${plan.mode} and (r.lang == ${storedTagValue(plan.lang)}${star}))
  ${beforeStop(new Date(to))}
  ${topicFilter(range?.topics)}
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`),
      collect(flux`from(bucket: ${this.c.bucket})
  |> range(start: ${new Date(from)}, stop: ${new Date(to)})
  |> filter(fn: (r) => r._measurement == ${dirtyMeasurement(this.c)} and r._field == "touched")
  ${beforeStop(new Date(to))}
  ${topicFilter(range?.topics)}`),
    ]);
    const own = new Map<string, CsvRow>();
    const stars = new Map<string, number>();
    const marks = new Map<string, { topic: string; window: number; touched: number }>();
    for (const r of markRows) {
      const window = Math.floor(Date.parse(String(r._time)));
      const topic = decodeTagValue(r.topic);
      marks.set(pairKey(window, topic), { topic, window, touched: Number(r._value) });
    }
    const lang = storedTagValue(plan.lang);
    for (const r of rollupRows) {
      const key = pairKey(Math.floor(Date.parse(String(r._time))), decodeTagValue(r.topic));
      if (r.lang === lang) own.set(key, r);
      if (r.lang === ALL_LANGUAGES) stars.set(key, Number(r.rolled_through));
    }

    // Clean: the '*' roll and the language's own point (when it has one) are at least as new as the mark.
    const dirty = new Map<string, { topic: string; window: number }>();
    for (const [key, mark] of marks) {
      const rolled = stars.get(key);
      const mine = own.get(key);
      if (rolled === undefined || rolled < mark.touched || (mine !== undefined && Number(mine.rolled_through) < mark.touched)) dirty.set(key, mark);
    }
    const parts: OpinionGroup[] = [];
    for (const [key, r] of own) {
      if (dirty.has(key)) continue;
      if (leftOut !== undefined && Number(r.left_out ?? 0) > 0) {
        const topic = decodeTagValue(r.topic);
        leftOut.set(topic, (leftOut.get(topic) ?? 0) + Number(r.left_out));
      }
      if (Number(r.n) === 0) continue;
      const window = Math.floor(Date.parse(String(r._time)));
      parts.push(groupOfRollup(r, decodeTagValue(r.topic), bucketOf(window, widthMs)));
    }

    // Marked windows from the posts too (few queries).
    const reads: Promise<unknown>[] = [spans];
    for (const run of runsOf(dirty)) {
      // Many topics: the range's own topic filter (or none), and the rows of clean pairs dropped here.
      const topics = run.topics.size <= MAX_TOPICS_IN_FILTER ? { topics: [...run.topics] } : {};
      reads.push(
        this.#fold(aggregator, leftOut, { ...base, ...topics, from: new Date(run.from), to: new Date(run.to) }, widthMs, (row) =>
          dirty.has(pairKey(opinionWindowOf(row.at), row.topic)),
        ),
      );
    }
    await Promise.all(reads);
    return { groups: mergeParts([...parts, ...aggregator.groups()]), leftOut: leftOut ?? new Map<string, number>() };
  }

  /** Folds the posts of a range; with `leftOut`, those in unsupported languages are counted there instead. */
  async #fold(
    aggregator: OpinionAggregator,
    leftOut: Map<string, number> | undefined,
    range: RowsRange,
    widthMs: number | undefined,
    keep: (row: { at: number; topic: string }) => boolean = () => true,
  ): Promise<void> {
    for await (const { values, tableMeta } of this.api.iterateRows(pivotedRows(this.c, range))) {
      const r = tableMeta.toObject(values);
      const row = opinionRowOf(r, (at) => bucketOf(at, widthMs));
      if (row === undefined || !keep(row)) continue;
      if (leftOut !== undefined && isUnsupportedRow(r)) leftOut.set(row.topic, (leftOut.get(row.topic) ?? 0) + 1);
      else aggregator.add(row);
    }
  }
}

/** Marked windows as at most MAX_DIRTY_READS spans (the shortest gaps merged first), with their topics. */
function runsOf(dirty: ReadonlyMap<string, { topic: string; window: number }>): { from: number; to: number; topics: Set<string> }[] {
  const byWindow = new Map<number, Set<string>>();
  for (const { topic, window } of dirty.values()) {
    const topics = byWindow.get(window);
    if (topics) topics.add(topic);
    else byWindow.set(window, new Set([topic]));
  }
  const runs: { from: number; to: number; topics: Set<string> }[] = [];
  for (const window of [...byWindow.keys()].sort((a, b) => a - b)) {
    const last = runs[runs.length - 1];
    const topics = byWindow.get(window) as Set<string>;
    if (last !== undefined && last.to === window) {
      last.to = window + OPINION_WINDOW_MS;
      for (const t of topics) last.topics.add(t);
    } else runs.push({ from: window, to: window + OPINION_WINDOW_MS, topics: new Set(topics) });
  }
  while (runs.length > MAX_DIRTY_READS) {
    let at = 0;
    for (let i = 1; i < runs.length - 1; i++) {
      if ((runs[i + 1] as { from: number }).from - (runs[i] as { to: number }).to < (runs[at + 1] as { from: number }).from - (runs[at] as { to: number }).to)
        at = i;
    }
    const a = runs[at] as { from: number; to: number; topics: Set<string> };
    const b = runs[at + 1] as { from: number; to: number; topics: Set<string> };
    a.to = b.to;
    for (const t of b.topics) a.topics.add(t);
    runs.splice(at + 1, 1);
  }
  return runs;
}
