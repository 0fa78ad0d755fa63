import type { DelaySummary } from './summary.js';
import { perWeek, type DelayCell, type MethodResult, type StationaryCheck, type SweepRow } from './evaluate.js';

const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;
const minutes = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '> 360');

export function sweepTable(rows: readonly SweepRow[], name: string, kind: 'mean' | 'volume'): string {
  const rates = rows[0]?.byRate.map((r) => r.postsPerMinute) ?? [];
  const head = `| ${name} | ${rates.map((r) => `${kind} alarms / topic-week at ${r}/min`).join(' | ')} |\n| --- | ${rates.map(() => '---').join(' | ')} |`;
  const body = rows.map(
    (row) =>
      `| ${row.threshold} | ${row.byRate.map(({ outcome }) => `${perWeek(kind === 'mean' ? outcome.meanAlarms : outcome.volumeAlarms, outcome).toFixed(2)} (${kind === 'mean' ? outcome.meanAlarms : outcome.volumeAlarms})`).join(' | ')} |`,
  );
  return [head, ...body].join('\n');
}

export function delayRow(label: string, s: DelaySummary): string {
  return `| ${label} | ${pct(s.within10)} | ${pct(s.within60)} | ${minutes(s.medianDelay)} | ${minutes(s.p95Delay)} | ${s.wrongDirection} | ${s.trials} |`;
}

export const DELAY_HEAD =
  '| shift × rate | detected ≤ 10 min | ≤ 60 min | median delay (min) | p95 delay (min) | wrong direction | trials |\n| --- | --- | --- | --- | --- | --- | --- |';

export function delayTable(cells: readonly DelayCell[]): string {
  const label = (c: DelayCell): string =>
    c.shift.kind === 'mean' ? `mean ${c.shift.size.toFixed(1)} at ${c.shift.postsPerMinute}/min` : `volume ×${c.shift.size} at ${c.shift.postsPerMinute}/min`;
  return [DELAY_HEAD, ...cells.map((c) => delayRow(label(c), c.summary))].join('\n');
}

export function comparisonTable(results: readonly MethodResult[]): string {
  const cells = results[0]?.cells ?? [];
  const head = `| shift × rate | ${results.map((r) => `${r.method.name} (${r.method.threshold} = ${r.threshold}): ≤ 10 min / ≤ 60 min / median`).join(' | ')} |\n| --- | ${results.map(() => '---').join(' | ')} |`;
  const body = cells.map(
    (c, i) =>
      `| ${c.shift.size.toFixed(1)} at ${c.shift.postsPerMinute}/min | ${results
        .map((r) => {
          const s = (r.cells[i] as DelayCell).summary;
          return `${pct(s.within10)} / ${pct(s.within60)} / ${minutes(s.medianDelay)}`;
        })
        .join(' | ')} |`,
  );
  return [head, ...body].join('\n');
}

export function stationaryTable(checks: readonly StationaryCheck[]): string {
  const head =
    '| stream | rate | topic-weeks | posts | mean alarms | per day | per topic-week | volume alarms | per day | per topic-week |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';
  const body = checks.map(({ label, postsPerMinute, outcome: o }) => {
    const weeks = o.topicDays / 7;
    return `| ${label} | ${postsPerMinute}/min | ${weeks.toFixed(0)} | ${o.posts.toLocaleString('en-US')} | ${o.meanAlarms} | ${(o.meanAlarms / o.topicDays).toFixed(3)} | ${(o.meanAlarms / weeks).toFixed(2)} | ${o.volumeAlarms} | ${(o.volumeAlarms / o.topicDays).toFixed(3)} | ${(o.volumeAlarms / weeks).toFixed(2)} |`;
  });
  return [head, ...body].join('\n');
}
