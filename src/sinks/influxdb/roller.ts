/**
 * The roller: InfluxDB's downsampling task, run in the store process that owns the sink (rollup.ts
 * says what it writes). The sink tells it which (topic, window)s it marked; every `rollupIntervalMs`
 * it takes those not written for `rollupQuietMs`, reads each one's mark (T), then its posts (the
 * pivoted rows the query reads), folds them with OpinionAggregator for both modes, per language
 * and for '*', over every post and over the posts in supported languages (counting those left
 * out), in one pass, and writes the rollups with rolled_through = T. A window written again
 * while it was rolled stays pending. Failures are logged (CP_INFLUXDB_ROLLUP) and retried on the
 * next tick; they never reach the pipeline. On close it rolls what is pending within
 * `rollupCloseMs` and logs what it left (those windows are read from the posts until rolled again).
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { InfluxDB, flux, type QueryApi } from '@influxdata/influxdb-client';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { CrowdpulseError } from '../../errors.js';
import { AMPLIFICATION_MODES, OPINION_WINDOW_MS, opinionWindowOf, type AmplificationMode } from '../../query/amplification.js';
import { OpinionAggregator, type OpinionGroup, type OpinionRow } from '../../query/opinions.js';
import { ALL_LANGUAGES } from '../../query/rollup-plan.js';
import { logger } from '../../telemetry/log.js';
import { decodeTagValue } from './line-protocol.js';
import { END_OF_TIME, EPOCH, isUnsupportedRow, opinionRowOf, pivotedRows, topicFilter, type Row } from './post-rows.js';
import { dirtyMeasurement, encodeRollup, encodeSince, pairKey, sinceFor, sinceMeasurement, type RollupPoint } from './rollup.js';
import { endpointOf, InfluxHttp } from './transport.js';

const gzip = promisify(gzipCb);
const log = logger('influxdb-rollup');

/**
 * Windows per roll query (its rows are folded in memory: at 1 M posts a day, 6 hours are ~250,000
 * rows), topics named in its filter at most (beyond, it reads every topic of the span).
 */
const MAX_WINDOWS_PER_READ = 6;
const MAX_TOPICS_IN_FILTER = 64;
/** Rollup points per write request. */
const LINES_PER_WRITE = 5000;

interface Pending {
  readonly topic: string;
  readonly window: number;
  /** The latest mark this process wrote for the pair. */
  touched: number;
  /** When (local clock) it was written: a pair is rolled once this is rollupQuietMs old. */
  at: number;
}

export type RollerOptions = Pick<InfluxdbConfig, 'rollupIntervalMs' | 'rollupQuietMs' | 'rollupCloseMs'>;

export class Roller {
  readonly #pending = new Map<string, Pending>();
  readonly #http: InfluxHttp;
  readonly #api: QueryApi;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #sinceWritten = false;
  #closed = false;

  constructor(
    private readonly c: InfluxdbConfig,
    private readonly o: RollerOptions = c,
  ) {
    this.#http = new InfluxHttp(endpointOf(c), 1);
    this.#api = new InfluxDB({ url: c.url, token: c.token, transport: this.#http.transport() }).getQueryApi(c.org);
  }

  /** (topic, window)s waiting to be rolled. */
  get pending(): number {
    return this.#pending.size;
  }

  /** The sink marked these pairs with `touched` (its posts are durable). Starts the ticks on first use. */
  marked(pairs: Iterable<{ readonly topic: string; readonly window: number }>, touched: number): void {
    if (this.#closed) return;
    const now = Date.now();
    for (const { topic, window } of pairs) {
      const key = pairKey(window, topic);
      const seen = this.#pending.get(key);
      if (seen) {
        seen.touched = Math.max(seen.touched, touched);
        seen.at = now;
      } else this.#pending.set(key, { topic, window, touched, at: now });
    }
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.o.rollupIntervalMs);
      this.#timer.unref();
    }
  }

  #tick(): void {
    if (this.#running !== undefined || this.#closed) return;
    this.#running = this.roll(Date.now() - this.o.rollupQuietMs)
      .catch((e: unknown) =>
        log.error('rolling up failed; the windows stay pending (retried next tick)', { code: 'CP_INFLUXDB_ROLLUP', error: (e as Error).message }),
      )
      .finally(() => (this.#running = undefined));
  }

  /**
   * One pass: writes the since point if none is written yet, then rolls the pending pairs last
   * written before `quietBefore` (every pending pair when left out), a few windows at a time, until
   * `deadline`. Throws the first failure (what is not rolled stays pending).
   */
  async roll(quietBefore = Infinity, deadline = Infinity): Promise<void> {
    if (!this.#sinceWritten) await this.#ensureSince();
    const due = [...this.#pending.values()].filter((p) => p.at < quietBefore).sort((a, b) => a.window - b.window);
    for (let i = 0; i < due.length && Date.now() < deadline;) {
      const first = (due[i] as Pending).window;
      let j = i;
      while (j < due.length && (due[j] as Pending).window < first + MAX_WINDOWS_PER_READ * OPINION_WINDOW_MS) j++;
      await this.#rollChunk(due.slice(i, j));
      i = j;
    }
  }

  /** Writes `<m>_rollup_since` = sinceFor(now) unless a since point exists. */
  async #ensureSince(): Promise<void> {
    const rows = await this.#api.collectRows<Row>(
      flux`from(bucket: ${this.c.bucket}) |> range(start: ${EPOCH}, stop: ${END_OF_TIME}) |> filter(fn: (r) => r._measurement == ${sinceMeasurement(this.c)}) |> first()`,
      (values, meta) => meta.toObject(values),
    );
    if (rows.length === 0) {
      const now = Date.now();
      const since = sinceFor(now);
      await this.#write(encodeSince(since, now, this.c));
      log.info('rollups answer windows from here on (earlier ones are read from the posts)', { since: new Date(since).toISOString() });
    }
    this.#sinceWritten = true;
  }

  async #rollChunk(chunk: readonly Pending[]): Promise<void> {
    if (chunk.length === 0) return;
    const snapshot = chunk.map((p) => p.touched);
    const due = new Set(chunk.map((p) => pairKey(p.window, p.topic)));
    const topicSet = new Set(chunk.map((p) => p.topic));
    const topics = topicSet.size <= MAX_TOPICS_IN_FILTER ? [...topicSet] : undefined;
    const from = new Date((chunk[0] as Pending).window);
    const to = new Date((chunk[chunk.length - 1] as Pending).window + OPINION_WINDOW_MS);
    // The marks first: every post whose mark is ≤ the value read here is durable, so the rows read next hold it.
    const marks = new Map<string, number>();
    for await (const { values, tableMeta } of this.#api.iterateRows(flux`from(bucket: ${this.c.bucket})
  |> range(start: ${from}, stop: ${to})
  |> filter(fn: (r) => r._measurement == ${dirtyMeasurement(this.c)} and r._field == "touched")
  ${topicFilter(topics)}`)) {
      const r = tableMeta.toObject(values);
      const key = pairKey(Math.floor(Date.parse(String(r._time))), decodeTagValue(r.topic as string | undefined));
      if (due.has(key)) marks.set(key, Number(r._value));
    }
    // One pass over the rows: per mode, '*' and per language, each group's bucket its window; every
    // post, and (supported) the posts in supported languages with a count of those left out.
    const folds = { every: new Folds(), supported: new Folds() };
    const leftOut = new Map<string, Map<string, { topic: string; window: number; n: number }>>();
    for await (const { values, tableMeta } of this.#api.iterateRows(pivotedRows(this.c, { from, to, ...(topics ? { topics } : {}) }))) {
      const r = tableMeta.toObject(values);
      const row = opinionRowOf(r, opinionWindowOf);
      const key = row === undefined ? undefined : pairKey(row.bucket, row.topic);
      if (row === undefined || key === undefined || !due.has(key)) continue;
      // '' (no tag) and '*' cannot be a language's own rollup: queries for them read the posts.
      const lang = decodeTagValue(r.lang as string | undefined);
      const own = lang !== '' && lang !== ALL_LANGUAGES ? lang : undefined;
      folds.every.add(row, own);
      if (!isUnsupportedRow(r)) folds.supported.add(row, own);
      else
        for (const l of own === undefined ? [ALL_LANGUAGES] : [ALL_LANGUAGES, own]) {
          let counts = leftOut.get(l);
          if (!counts) leftOut.set(l, (counts = new Map<string, { topic: string; window: number; n: number }>()));
          const seen = counts.get(key);
          if (seen) seen.n += 1;
          else counts.set(key, { topic: row.topic, window: row.bucket, n: 1 });
        }
    }
    const lines: string[] = [];
    const push = (p: Omit<RollupPoint, 'rolledThrough'>): void => {
      const rolledThrough = marks.get(pairKey(p.group.bucket, p.group.topic));
      if (rolledThrough !== undefined) lines.push(encodeRollup({ ...p, rolledThrough }, this.c));
    };
    for (const mode of AMPLIFICATION_MODES)
      for (const supported of [false, true]) {
        const fold = supported ? folds.supported : folds.every;
        const starLeftOut = supported ? leftOut.get(ALL_LANGUAGES) : undefined;
        const stars = fold.groups(mode, ALL_LANGUAGES);
        // A marked pair without posts (deleted behind our back) still gets its '*' point, so that it reads as clean.
        for (const p of chunk) {
          const key = pairKey(p.window, p.topic);
          const group = stars.get(key) ?? emptyGroup(p.topic, p.window);
          push({ mode, lang: ALL_LANGUAGES, group, ...(supported ? { leftOut: starLeftOut?.get(key)?.n ?? 0 } : {}) });
        }
        // A language's own points where it has posts (counted, or only left out: a point of nothing counted).
        for (const lang of new Set([...fold.langs(mode), ...(supported ? leftOut.keys() : [])])) {
          if (lang === ALL_LANGUAGES) continue;
          const groups = fold.groups(mode, lang);
          const counts = supported ? leftOut.get(lang) : undefined;
          for (const [key, group] of groups) push({ mode, lang, group, ...(supported ? { leftOut: counts?.get(key)?.n ?? 0 } : {}) });
          for (const [key, c] of counts ?? []) if (!groups.has(key)) push({ mode, lang, group: emptyGroup(c.topic, c.window), leftOut: c.n });
        }
      }
    for (let i = 0; i < lines.length; i += LINES_PER_WRITE) await this.#write(lines.slice(i, i + LINES_PER_WRITE).join('\n'));
    chunk.forEach((p, i) => {
      const key = pairKey(p.window, p.topic);
      if (!marks.has(key))
        log.warn('a pending window has no mark in the store; not rolled (read from the posts)', { topic: p.topic, window: new Date(p.window).toISOString() });
      // Marked again while this roll ran: roll again later.
      if (this.#pending.get(key)?.touched === snapshot[i]) this.#pending.delete(key);
    });
  }

  async #write(text: string): Promise<void> {
    const raw = Buffer.from(text, 'utf8');
    const useGzip = raw.byteLength >= this.c.gzipMinBytes;
    const outcome = await this.#http.write(useGzip ? await gzip(raw, { level: this.c.gzipLevel }) : raw, useGzip);
    if (outcome.kind === 'ok') return;
    throw new CrowdpulseError('CP_INFLUXDB_ROLLUP', outcome.kind === 'http' ? outcome.message : `${outcome.code}: ${outcome.message}`);
  }

  /** Stops the ticks, rolls what is pending within rollupCloseMs, logs what it left. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#running;
    if (this.#pending.size > 0) {
      const started = Date.now();
      try {
        await this.roll(Infinity, started + this.o.rollupCloseMs);
      } catch (e) {
        log.error('rolling up on close failed', { code: 'CP_INFLUXDB_ROLLUP', error: (e as Error).message });
      }
      if (this.#pending.size > 0) {
        let first = Infinity;
        let last = -Infinity;
        for (const p of this.#pending.values()) {
          first = Math.min(first, p.window);
          last = Math.max(last, p.window);
        }
        log.warn('closing with windows not rolled up; queries read them from the posts', {
          code: 'CP_INFLUXDB_ROLLUP',
          pairs: this.#pending.size,
          from: new Date(first).toISOString(),
          to: new Date(last + OPINION_WINDOW_MS).toISOString(),
        });
      }
    }
    await this.#http.close();
  }
}

/** Aggregators per mode, for '*' and per language, filled in one pass. */
class Folds {
  readonly #byMode = new Map(AMPLIFICATION_MODES.map((m) => [m, new Map<string, OpinionAggregator>()]));

  add(row: OpinionRow, lang: string | undefined): void {
    for (const [mode, byLang] of this.#byMode)
      for (const l of lang === undefined ? [ALL_LANGUAGES] : [ALL_LANGUAGES, lang]) {
        let agg = byLang.get(l);
        if (!agg) byLang.set(l, (agg = new OpinionAggregator(mode, undefined)));
        agg.add(row);
      }
  }

  langs(mode: AmplificationMode): Iterable<string> {
    return (this.#byMode.get(mode) as Map<string, OpinionAggregator>).keys();
  }

  /** The groups of a (mode, language) by (window, topic). */
  groups(mode: AmplificationMode, lang: string): Map<string, OpinionGroup> {
    const agg = this.#byMode.get(mode)?.get(lang);
    return new Map((agg?.groups() ?? []).map((g) => [pairKey(g.bucket, g.topic), g]));
  }
}

const emptyGroup = (topic: string, window: number): OpinionGroup => ({
  topic,
  bucket: window,
  firstAt: 0,
  lastAt: 0,
  stats: { n: 0, sumOfWeights: 0, sumOfSquaredWeights: 0, weightedSum: 0, weightedSumOfSquares: 0, weightByLabel: { negative: 0, neutral: 0, positive: 0 } },
});
