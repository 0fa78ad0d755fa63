import { Command } from 'commander';
import { chooseBucketSeconds } from '../dashboard/sentiment-view.js';
import { CrowdpulseError } from '../errors.js';
import { DEFAULT_MIN_POSTS } from '../query/intervals.js';
import { parseDuration, resolveRange } from '../query/range.js';
import { AMPLIFICATION_MODES, DEFAULT_AMPLIFICATION } from '../query/amplification.js';
import { parseFilters } from '../query/filters.js';
import { coverageOfBuckets, coverageTimeline } from '../query/coverage.js';
import { buildQuery } from '../roles/components.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';
import { formatQueryResult, QUERY_FORMATS, type QueryFormat } from './query-output.js';
import { formatShifts } from './shifts-output.js';

const FLAGS = [FLAG.sink, FLAG.db];
/** Buckets per topic when --bucket is not given: the smallest round width that fits the range. */
const DEFAULT_POINTS = 60;

const usage = (message: string): CrowdpulseError<'CP_USAGE'> => new CrowdpulseError('CP_USAGE', message);
const splitTopics = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean),
];

interface QueryOptions {
  readonly from?: string;
  readonly to?: string;
  readonly last?: string;
  readonly at?: string;
  readonly bucket?: string;
  readonly topics: string[];
  readonly minPosts: string;
  readonly format: string;
  readonly langs?: string;
  readonly amplification: string;
  readonly authorCap?: string;
  readonly shifts?: boolean;
  readonly includeUnsupportedLanguages?: boolean;
}

/** `crowdpulse query`: per-topic sentiment with its uncertainty over a time range, from the configured store. */
export function queryCommand(): Command {
  const command = new Command('query')
    .description('per-topic sentiment over a time range, with 95 % intervals, as a table, JSON or CSV (SQLite or InfluxDB)')
    .option('--from <time>', 'start, inclusive: ISO 8601 with a zone (2026-11-03T06:00:00Z), a date, or now')
    .option('--to <time>', 'end, exclusive (default now with --from)')
    .option('--last <duration>', 'the range ending at --at: 90s, 15m, 6h, 7d (default 24h)')
    .option('--at <time>', 'anchor of --last (default now; never the newest stored post)')
    .option('--bucket <duration>', `bucket width (default: the smallest round width giving at most ${DEFAULT_POINTS} buckets)`)
    .option('--topics <list>', 'only these topics, comma-separated (repeatable)', splitTopics, [])
    .option('--min-posts <n>', 'buckets with fewer opinions are marked as too few', String(DEFAULT_MIN_POSTS))
    .option('--langs <list>', 'only posts in these languages, comma-separated (en,es,und)')
    .option(
      '--amplification <mode>',
      `how retweets count: ${AMPLIFICATION_MODES.join(' | ')} (weighted: as weight on the post they retweet, not as opinions)`,
      DEFAULT_AMPLIFICATION,
    )
    .option(
      '--include-unsupported-languages',
      'count posts in languages the model does not support (model.languages); by default they are left out, and counted per topic as left out',
    )
    .option('--shifts', 'list the detected shifts of the range (topic, time, before/after) instead of the buckets')
    .option('--author-cap <n>', 'count at most n posts of one author per topic and bucket (the earliest; default none)')
    .option('--format <format>', `output: ${QUERY_FORMATS.join(' | ')}`, 'table');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    const options = command.opts<QueryOptions>();
    if (!(QUERY_FORMATS as readonly string[]).includes(options.format))
      throw usage(`--format must be one of ${QUERY_FORMATS.join(', ')}, got "${options.format}"`);
    const minPosts = Number(options.minPosts);
    if (!Number.isInteger(minPosts) || minPosts < 0) throw usage(`--min-posts must be a whole number >= 0, got "${options.minPosts}"`);
    const filters = parseFilters({
      langs: options.langs,
      amplification: options.amplification,
      authorCap: options.authorCap,
      unsupportedLanguages: options.includeUnsupportedLanguages === true ? 'include' : 'exclude',
    });
    if (!filters.ok) throw usage(`--${filters.error.replace(/^author cap/, 'author-cap')}`);
    const range = resolveRange(options, Date.now());
    if (!range.ok) throw usage(range.error);
    let bucketSeconds: number;
    if (options.bucket === undefined) bucketSeconds = chooseBucketSeconds((range.value.to - range.value.from) / 1000, DEFAULT_POINTS);
    else {
      const width = parseDuration(options.bucket);
      if (!width.ok) throw usage(`--bucket: ${width.error}`);
      bucketSeconds = width.value / 1000;
    }
    let built: ReturnType<typeof buildQuery>;
    try {
      built = buildQuery(config);
    } catch (e) {
      throw new CrowdpulseError(
        'CP_STORE_OPEN',
        `cannot read the store (${config.sink.kind}${config.sink.kind === 'sqlite' ? ` ${config.sqlite.path}` : ''}): ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    if (!built.ok) throw built.error;
    const query = built.value;
    try {
      if (options.shifts === true) {
        const shifts = await query.shifts({
          from: new Date(range.value.from),
          to: new Date(range.value.to),
          ...(options.topics.length > 0 ? { topics: options.topics } : {}),
        });
        process.stdout.write(
          formatShifts({ from: new Date(range.value.from).toISOString(), to: new Date(range.value.to).toISOString(), shifts }, options.format as QueryFormat),
        );
        return;
      }
      const buckets = await query.buckets({
        from: new Date(range.value.from),
        to: new Date(range.value.to),
        bucketSeconds,
        minPosts,
        ...filters.value,
        ...(options.topics.length > 0 ? { topics: options.topics } : {}),
      });
      // Per topic, the posts in unsupported languages the buckets left out (none when they are included).
      const summaries = await query.topics({
        from: new Date(range.value.from),
        to: new Date(range.value.to),
        ...filters.value,
        ...(options.topics.length > 0 ? { topics: options.topics } : {}),
      });
      const leftOut = summaries.filter((s) => s.leftOut > 0).map((s) => ({ topic: s.topic, posts: s.leftOut }));
      const events = await query.coverage({ from: new Date(range.value.from), to: new Date(range.value.to) });
      const widthMs = Math.max(1, Math.round(bucketSeconds * 1000));
      const now = Date.now();
      const timeline = coverageTimeline(events, range.value.from, range.value.to, widthMs, now);
      // One share per distinct bucket start, not per (topic, bucket) row.
      const rowStarts = [...new Set(buckets.map((b) => b.bucketStart))];
      const shares = coverageOfBuckets(
        events,
        rowStarts.map((iso) => Date.parse(iso)),
        widthMs,
        now,
      );
      const rowCoverage = new Map(rowStarts.map((iso, i) => [iso, shares[i] ?? null]));
      const result = {
        from: new Date(range.value.from).toISOString(),
        to: new Date(range.value.to).toISOString(),
        bucketSeconds,
        minPosts,
        ...filters.value,
        buckets: buckets.map((b) => ({ ...b, coverage: rowCoverage.get(b.bucketStart) ?? null })),
        leftOut,
        ...(timeline === undefined ? {} : { coverage: timeline }),
      };
      process.stdout.write(formatQueryResult(result, options.format as QueryFormat));
    } finally {
      await query.close();
    }
  });
  return command;
}
