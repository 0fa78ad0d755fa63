import type { ShiftEvent, ShiftSide } from '../query/shift-event.js';
import { csvField, shown, signed, type QueryFormat } from './query-output.js';

/** What `crowdpulse query --shifts` prints. */
export interface ShiftsResult {
  readonly from: string;
  readonly to: string;
  readonly shifts: readonly ShiftEvent[];
}

/** A shift as printed in JSON: its topic and time first; an infinite volume change (from no posts) as null. */
const jsonOf = ({ topic, ...rest }: ShiftEvent) => ({
  topic,
  time: rest.detectedAt,
  ...rest,
  volumeChange: Number.isFinite(rest.volumeChange) ? rest.volumeChange : null,
});

/** JSON: an array, one object per shift (`topic`, `time` = detectedAt, and the whole event); table or CSV otherwise. */
export function formatShifts(result: ShiftsResult, format: QueryFormat): string {
  if (format === 'json') return `${JSON.stringify(result.shifts.map(jsonOf), null, 2)}\n`;
  if (format === 'csv') return csv(result.shifts);
  return table(result);
}

const side = (s: ShiftSide): string =>
  `${signed(s.meanScore)}${s.meanScoreCi95 ? ` [${signed(s.meanScoreCi95[0])}, ${signed(s.meanScoreCi95[1])}]` : ''} n=${s.n}`;
const ratio = (x: number): string => (Number.isFinite(x) ? `×${x.toFixed(2)}` : 'from none');

function table(result: ShiftsResult): string {
  const head = `shifts detected ${result.from} .. ${result.to}\n`;
  if (result.shifts.length === 0) return `${head}no shifts in this range\n`;
  const rows = [['detected at', 'topic', 'kind', 'dir', 'changed at', 'before', 'after', 'volume', 'posts']];
  for (const s of result.shifts)
    rows.push([
      s.detectedAt,
      shown(s.topic),
      s.kind,
      s.direction,
      s.changeAt,
      side(s.before),
      side(s.after),
      ratio(s.volumeChange),
      s.postIds.slice(0, 3).join(' ') + (s.postIds.length > 3 ? ' …' : ''),
    ]);
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  return `${head}${rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

const CSV_HEADER = [
  'detected_at',
  'topic',
  'kind',
  'direction',
  'change_at',
  'before_n',
  'before_mean',
  'before_ci95_lo',
  'before_ci95_hi',
  'before_posts_per_minute',
  'after_n',
  'after_mean',
  'after_ci95_lo',
  'after_ci95_hi',
  'after_posts_per_minute',
  'volume_change',
  'post_ids',
];

const sideCells = (s: ShiftSide): string[] => [
  String(s.n),
  String(s.meanScore),
  String(s.meanScoreCi95?.[0] ?? ''),
  String(s.meanScoreCi95?.[1] ?? ''),
  String(s.postsPerMinute),
];

function csv(shifts: readonly ShiftEvent[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const s of shifts)
    lines.push(
      [
        s.detectedAt,
        csvField(s.topic),
        s.kind,
        s.direction,
        s.changeAt,
        ...sideCells(s.before),
        ...sideCells(s.after),
        Number.isFinite(s.volumeChange) ? String(s.volumeChange) : '',
        s.postIds.join(' '),
      ].join(','),
    );
  return `${lines.join('\n')}\n`;
}
