import type { TopicSummary } from '../query/sentiment-query.js';

export interface RunSummary {
  readonly linesRead: number;
  readonly postsStored: number;
  readonly deadLetters: ReadonlyMap<string, number>;
  /** Lines read but neither stored nor dead-lettered: in flight when a drain ran out of time (a rerun stores them). */
  readonly unfinished: number;
  /** Why the run ended early: a signal (drained), or a signal whose drain ran out of time. */
  readonly interrupted: 'signal' | 'drain_timeout' | undefined;
  readonly seconds: number;
  readonly modelId: string;
  /** Per-topic totals, busiest first: every topic, or only the top ones when `topicCount` says how many there are. */
  readonly topics: readonly TopicSummary[];
  /** Topics in the store, when `topics` holds only the top ones (default: topics.length). */
  readonly topicCount?: number;
  /** Why the per-topic table could not be read back from the store, when it could not. */
  readonly topicsError: string | undefined;
  readonly store: string;
  readonly deadLetterPath: string;
  readonly metricsUrl: string | undefined;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Rows of the per-topic table at most; the store has every topic (the dashboard and queries read them). */
export const SUMMARY_TABLE_TOPICS = 50;
/** Characters of a topic name shown in the table; a tag may be 600,000 characters long. */
export const TOPIC_NAME_CHARS = 60;

const byCountThenTopic = (x: TopicSummary, y: TopicSummary): number => y.count - x.count || (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : 0);

/** The `n` busiest topics in one pass, without copying or sorting a list that may hold 200,000. */
function busiest(topics: readonly TopicSummary[], n: number): TopicSummary[] {
  const top: TopicSummary[] = [];
  for (const t of topics) {
    const last = top[top.length - 1];
    if (top.length === n && last !== undefined && byCountThenTopic(t, last) >= 0) continue;
    if (top.length === n) top.pop();
    // Insertion into the short sorted list.
    let i = top.push(t) - 1;
    while (i > 0 && byCountThenTopic(t, top[i - 1] as TopicSummary) < 0) {
      top[i] = top[i - 1] as TopicSummary;
      top[--i] = t;
    }
  }
  return top;
}

/**
 * A topic name as one table cell: cut to TOPIC_NAME_CHARS characters with an ellipsis, control
 * characters (a newline would break the table) replaced. Only the first characters are visited.
 */
function shownTopic(topic: string): string {
  const chars: string[] = [];
  for (const ch of topic) {
    chars.push(/\p{Cc}/u.test(ch) ? '\uFFFD' : ch);
    if (chars.length > TOPIC_NAME_CHARS) return `${chars.slice(0, TOPIC_NAME_CHARS - 1).join('')}…`;
  }
  return chars.join('');
}

/** The end-of-run report: what was processed, how fast, the per-topic sentiment, and where the data is. */
export function formatSummary(s: RunSummary): string {
  const dead = [...s.deadLetters.values()].reduce((a, b) => a + b, 0);
  const deadDetail = dead === 0 ? '' : ` (${[...s.deadLetters].map(([code, n]) => `${code}: ${n}`).join(', ')})`;
  const lines = [
    '',
    'crowdpulse run summary',
    `  lines read        ${s.linesRead}`,
    `  posts stored      ${s.postsStored}`,
    `  dead letters      ${dead}${deadDetail}`,
    ...(s.unfinished > 0 ? [`  not finished      ${s.unfinished} (in flight when the drain ran out of time; a rerun stores them)`] : []),
    ...(s.interrupted ? [`  stopped           by a signal${s.interrupted === 'drain_timeout' ? ', before the drain finished' : ', after draining'}`] : []),
    `  elapsed           ${s.seconds.toFixed(2)} s`,
    `  throughput        ${(s.postsStored / Math.max(1e-9, s.seconds)).toFixed(0)} posts/s`,
    `  model             ${s.modelId}`,
    '',
  ];
  if (s.topicsError !== undefined) lines.push(`  per-topic table unavailable: the store could not be read back (${s.topicsError})`, '');
  const shown = busiest(s.topics, SUMMARY_TABLE_TOPICS);
  // Posts in languages the model does not support: stored, left out of the figures (src/query/languages.ts).
  let leftOut = 0;
  for (const t of s.topics) leftOut += t.leftOut;
  const header = ['topic', 'posts', 'mean score', 'negative', 'neutral', 'positive', ...(leftOut > 0 ? ['left out'] : [])];
  const rows = shown.map((t) => [
    shownTopic(t.topic),
    String(t.count),
    t.meanScore.toFixed(3),
    pct(t.shares.negative),
    pct(t.shares.neutral),
    pct(t.shares.positive),
    ...(leftOut > 0 ? [String(t.leftOut)] : []),
  ]);
  // Widths by loops over the few shown rows (Math.max(...rows) overflows the stack on a big list).
  const widths = header.map((h) => h.length);
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const fmt = (cells: readonly string[]): string => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  lines.push(fmt(header), '  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) lines.push(fmt(row));
  const more = Math.max(s.topicCount ?? 0, s.topics.length) - shown.length;
  if (more > 0) lines.push(`  … and ${more} more topic${more === 1 ? '' : 's'} (the store has them all; the dashboard and queries read them)`);
  if (leftOut > 0)
    lines.push(
      `  left out: ${leftOut} post${leftOut === 1 ? '' : 's'} in languages the model does not support (model.languages), stored but not in the figures; crowdpulse query --include-unsupported-languages counts them`,
    );
  lines.push('');
  lines.push(`  sentiment stored in ${s.store}`, `  dead letters in     ${s.deadLetterPath}`);
  if (s.metricsUrl) lines.push(`  metrics were at     ${s.metricsUrl}/metrics`);
  return lines.join('\n') + '\n';
}

/** What a Kafka role did, for its one-line summary on stdout. */
export interface RoleSummary {
  /** Posts made durable downstream (produced and acked, or stored). */
  readonly count: number;
  readonly deadLetters: ReadonlyMap<string, number>;
  readonly seconds: number;
}

/** "M dead letters (code: n, ...)", or "0 dead letters". */
export function formatDeadLetters(byCode: ReadonlyMap<string, number>): string {
  const entries = [...byCode].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return total === 0 ? '0 dead letters' : `${total} dead letters (${entries.map(([code, n]) => `${code}: ${n}`).join(', ')})`;
}

/** The summary line of a role, e.g. "analyze: 300 posts scored to raw, 2 dead letters (oversized: 2), 4.10 s". */
export function formatRoleSummary(role: string, what: string, s: RoleSummary): string {
  return `${role}: ${s.count} posts ${what}, ${formatDeadLetters(s.deadLetters)}, ${s.seconds.toFixed(2)} s`;
}
