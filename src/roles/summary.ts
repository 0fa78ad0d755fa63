import type { TopicSummary } from '../query/sentiment-query.js';

export interface RunSummary {
  readonly linesRead: number;
  readonly postsStored: number;
  readonly deadLetters: ReadonlyMap<string, number>;
  readonly seconds: number;
  readonly modelId: string;
  readonly topics: readonly TopicSummary[];
  readonly store: string;
  readonly deadLetterPath: string;
  readonly metricsUrl: string | undefined;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

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
    `  elapsed           ${s.seconds.toFixed(2)} s`,
    `  throughput        ${(s.postsStored / Math.max(1e-9, s.seconds)).toFixed(0)} posts/s`,
    `  model             ${s.modelId}`,
    '',
  ];
  const header = ['topic', 'posts', 'mean score', 'negative', 'neutral', 'positive'];
  const rows = s.topics.map((t) => [t.topic, String(t.count), t.meanScore.toFixed(3), pct(t.shares.negative), pct(t.shares.neutral), pct(t.shares.positive)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  lines.push(fmt(header), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt), '');
  lines.push(`  sentiment stored in ${s.store}`, `  dead letters in     ${s.deadLetterPath}`);
  if (s.metricsUrl) lines.push(`  metrics were at     ${s.metricsUrl}/metrics`);
  return lines.join('\n') + '\n';
}
