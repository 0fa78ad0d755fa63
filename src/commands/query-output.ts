import { LABELS } from '../contract/index.js';
import type { SentimentBucket } from '../query/sentiment-query.js';
import type { Filters } from '../query/filters.js';
import type { BucketCoverage } from '../query/coverage.js';

/** What `crowdpulse query` prints, whatever the format. */
/** A bucket as printed: with the share of it the stream covered (null: not recorded, e.g. a replay). */
export type QueryBucket = SentimentBucket & { readonly coverage: number | null };

export interface QueryResult extends Filters {
  readonly from: string;
  readonly to: string;
  readonly bucketSeconds: number;
  readonly minPosts: number;
  readonly buckets: readonly QueryBucket[];
  /** Per topic, posts in languages the model does not support that the buckets leave out (topics with none are not listed). */
  readonly leftOut: readonly { readonly topic: string; readonly posts: number }[];
  /** Every bucket of the range with its coverage, empty ones included; absent past MAX_COVERAGE_BUCKETS. */
  readonly coverage?: readonly BucketCoverage[];
}

export const QUERY_FORMATS = ['table', 'json', 'csv'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

export function formatQueryResult(result: QueryResult, format: QueryFormat): string {
  if (format === 'json') return `${JSON.stringify(result, null, 2)}\n`;
  if (format === 'csv') return csv(result.buckets);
  return table(result);
}

const CSV_HEADER = [
  'topic',
  'bucket_start',
  'n',
  'opinions',
  'mean_score',
  'mean_score_ci95_lo',
  'mean_score_ci95_hi',
  'score_stddev',
  ...LABELS.flatMap((l) => [`share_${l}`, `share_${l}_ci95_lo`, `share_${l}_ci95_hi`]),
  'too_few_posts',
  'coverage',
];

/**
 * RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. A topic that a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading ' as OWASP
 * advises, since topics come from whoever wrote the rules.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const num = (x: number | undefined): string => (x === undefined ? '' : String(x));

function csv(buckets: readonly QueryBucket[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const b of buckets) {
    lines.push(
      [
        csvField(b.topic),
        b.bucketStart,
        String(b.count),
        String(b.opinions),
        num(b.meanScore),
        num(b.meanScoreCi95?.[0]),
        num(b.meanScoreCi95?.[1]),
        num(b.scoreStdDev),
        ...LABELS.flatMap((l) => [num(b.shares[l]), num(b.sharesCi95[l][0]), num(b.sharesCi95[l][1])]),
        b.tooFewPosts ? 'true' : 'false',
        b.coverage === null ? '' : String(b.coverage),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

const TOPIC_WIDTH = 32;
export const shown = (topic: string): string => (topic.length > TOPIC_WIDTH ? `${topic.slice(0, TOPIC_WIDTH - 1)}…` : topic);
const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
export const signed = (x: number): string => (x >= 0 ? `+${x.toFixed(3)}` : x.toFixed(3));

function table(result: QueryResult): string {
  const mode = `${result.amplification ?? 'weighted'} amplification${result.authorCap === undefined ? '' : `, at most ${result.authorCap} posts per author`}${result.langs === undefined ? '' : `, langs ${result.langs.join(',')}`}`;
  const languages = result.unsupportedLanguages === 'include' ? ', posts in unsupported languages included' : '';
  const head = `${result.from} .. ${result.to}, buckets of ${result.bucketSeconds} s, ${mode}${languages}; * = fewer than ${result.minPosts} opinions (too few to read a trend into)\n`;
  const gaps = (result.coverage ?? []).filter((c) => c.covered !== null && c.covered < 1);
  const gapLines =
    gaps.length === 0
      ? ''
      : `stream gaps (share of the bucket the stream covered):\n${gaps
          .slice(0, 50)
          .map((g) => `  ${g.bucketStart}  ${pct(g.covered ?? 0)}`)
          .join('\n')}${gaps.length > 50 ? `\n  … and ${gaps.length - 50} more` : ''}\n`;
  const leftOutLines =
    result.leftOut.length === 0
      ? ''
      : `left out (posts in languages the model does not support; --include-unsupported-languages counts them):\n${result.leftOut
          .slice(0, 50)
          .map((l) => `  ${shown(l.topic)}  ${l.posts} post${l.posts === 1 ? '' : 's'}`)
          .join('\n')}${result.leftOut.length > 50 ? `\n  … and ${result.leftOut.length - 50} more topics` : ''}\n`;
  if (result.buckets.length === 0) return `${head}no posts in this range\n${leftOutLines}${gapLines}`;
  const rows = [['topic', 'bucket start', 'n', 'opinions', 'mean score [95% CI]', 'neg', 'neu', 'pos', '']];
  for (const b of result.buckets) {
    const ci = b.meanScoreCi95 ? ` [${signed(b.meanScoreCi95[0])}, ${signed(b.meanScoreCi95[1])}]` : ' [n < 2]';
    rows.push([
      shown(b.topic),
      b.bucketStart,
      String(b.count),
      String(b.opinions),
      `${signed(b.meanScore)}${ci}`,
      pct(b.shares.negative),
      pct(b.shares.neutral),
      pct(b.shares.positive),
      b.tooFewPosts ? '*' : '',
    ]);
  }
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c >= 2 && c <= 7 ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number)))
      .join('  ')
      .trimEnd();
  return `${head}${rows.map(line).join('\n')}\n${leftOutLines}${gapLines}`;
}
