/**
 * The posts' points as rows, in Flux: the filters every query of the posts' measurement shares, and
 * the pivoted read that the query (weighted opinions, the author cap, what rollups cannot answer)
 * and the roller fold with OpinionAggregator. Values go through the client's `flux` template.
 */
import { flux, fluxExpression, type ParameterizedQuery } from '@influxdata/influxdb-client';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { LABELS, type Label } from '../../contract/index.js';
import type { OpinionRow } from '../../query/opinions.js';
import { decodeTagValue, storedTagValue } from './line-protocol.js';
import { isUnsupported } from '../../query/languages.js';

export const EPOCH = new Date(0);
/** Flux's largest time; "no end" must include posts dated in the future (replays). */
export const END_OF_TIME = new Date('2262-04-11T00:00:00Z');

export type Row = Record<string, unknown>;

/** A read of the posts' measurement: a time span (ends open where left out) and filters. */
export interface RowsRange {
  readonly from?: Date;
  readonly to?: Date;
  readonly topics?: readonly string[];
  readonly langs?: readonly string[];
}

/** `|> filter(...)` keeping the given topics ('' = the points without a topic tag), or nothing for none. */
export function topicFilter(topics: readonly string[] | undefined): ReturnType<typeof fluxExpression> {
  if (topics === undefined || topics.length === 0) return fluxExpression('');
  const terms = topics.map((t) => (t === '' ? 'not exists r.topic' : flux`r.topic == ${storedTagValue(t)}`.toString()));
  return fluxExpression(`|> filter(fn: (r) => ${terms.join(' or ')})`);
}

/**
 * `|> filter(_time < to)`: InfluxDB 1.8's Flux includes a point at range()'s stop (2.x does not); a
 * range's end is exclusive here, as in the SQLite store, and a window's rollup must not meet the
 * posts of the range end read before it.
 */
export const beforeStop = (to: Date | undefined): ReturnType<typeof fluxExpression> =>
  to === undefined ? fluxExpression('') : fluxExpression(flux`|> filter(fn: (r) => r._time < ${to})`.toString());

/**
 * Empty string values are left out of the read, and pivot into absent columns ('' here). InfluxDB 2.x
 * (2.7.12, flux v0.196) misreads them: its storage read builds each string column with flux's
 * StringBuilder, which holds a run of equal values as one buffer and, at the first different value,
 * copies the run into a real builder and appends the new value only if its bytes are non-nil; an
 * empty string from the write cache has nil bytes, so a '' after a run of 'quoted' is dropped, every
 * later value of the column moves up one point, and the last reads ''. 2.x pushes this filter down
 * into the storage read, so no empty string reaches that builder (1.8, right either way, is as fast
 * with it: 0.14 s for 25,000 points; measured 2026-12).
 */
const NON_EMPTY = 'filter(fn: (r) => r._field == "score" or r._value != "")';

/**
 * from |> range |> filter(measurement, fields[, non-empty strings][, topics][, langs]), the range's
 * end exclusive. The filters that InfluxDB can push into its storage read come first, in a row:
 * 1.8's Flux pushes a chain of them down, and compiles a filter left after one it cannot push (the
 * _time bound) table by table, where `r._value != ""` does not compile on the float `score` table.
 */
export function postsBase(
  c: Pick<InfluxdbConfig, 'bucket' | 'measurement'>,
  fields: readonly string[],
  range: RowsRange | undefined,
  options: { readonly nonEmptyStrings?: boolean } = {},
): ParameterizedQuery {
  const langs = range?.langs ?? [];
  const langFilter =
    langs.length === 0
      ? fluxExpression('')
      : fluxExpression(`|> filter(fn: (r) => ${langs.map((l) => flux`r.lang == ${storedTagValue(l)}`.toString()).join(' or ')})`);
  const fieldFilter = fluxExpression(fields.map((f) => flux`r._field == ${f}`.toString()).join(' or '));
  return flux`from(bucket: ${c.bucket})
  |> range(start: ${range?.from ?? EPOCH}, stop: ${range?.to ?? END_OF_TIME})
  |> filter(fn: (r) => r._measurement == ${c.measurement} and (${fieldFilter}))
  ${fluxExpression(options.nonEmptyStrings === true ? `|> ${NON_EMPTY}` : '')}
  ${topicFilter(range?.topics)}
  ${langFilter}
  ${beforeStop(range?.to)}`;
}

/**
 * The fields one post's point carries, pivoted into one row per point (a point written before the
 * amplification fields existed reads as an original by an unknown author, one written before the
 * flags field as a post without flags). Weighted opinions and the
 * author cap are folded in code (src/query/opinions.ts): on InfluxDB 1.8, Flux took 27 s to group
 * 25,000 points by opinion with reduce(), and pivoting and reading the rows takes 0.4–0.7 s.
 */
const FIELDS = ['score', 'post_id', 'author_id', 'ref_kind', 'ref_id', 'flags'] as const;

/** Every point of the range as one pivoted row (with its topic, label and lang tags). */
export function pivotedRows(c: Pick<InfluxdbConfig, 'bucket' | 'measurement'>, range: RowsRange | undefined): string {
  return `${postsBase(c, FIELDS, range, { nonEmptyStrings: true }).toString()}
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> keep(columns: ["_time", "topic", "label", "lang", "score", "post_id", "author_id", "ref_kind", "ref_id", "flags"])`;
}

export const isLabel = (s: unknown): s is Label => typeof s === 'string' && (LABELS as readonly string[]).includes(s);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Whether a pivoted row's flags mark a post in a language the model does not support (src/query/languages.ts). */
export const isUnsupportedRow = (r: Row): boolean => isUnsupported(text(r.flags));

/** A pivoted row as OpinionAggregator takes it, in the bucket `bucketOf` gives its time; undefined for a row without a label. */
export function opinionRowOf(r: Row, bucketOf: (at: number) => number): OpinionRow | undefined {
  if (!isLabel(r.label)) return undefined;
  const at = Math.floor(Date.parse(String(r._time)));
  return {
    topic: decodeTagValue(r.topic as string | undefined),
    bucket: bucketOf(at),
    at,
    postId: text(r.post_id),
    score: Number(r.score),
    label: r.label,
    authorId: text(r.author_id),
    refKind: text(r.ref_kind),
    refId: text(r.ref_id),
  };
}
