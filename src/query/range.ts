import { err, ok, type Result } from '../contract/index.js';

/**
 * Time ranges as a reader asks for them: absolute (from/to) or relative (the last 6 h before an
 * anchor). The anchor is the clock, or a time the reader gives; never the newest stored post,
 * so a post dated in the future cannot move "the last hour".
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "6h", "7d", "1w", "250ms" → milliseconds; refuses anything else, and zero. */
export function parseDuration(text: string): Result<number, string> {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (UNITS[m[2] as string] as number) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) return err(`"${text}" is not a duration (a positive number with ms, s, m, h, d or w: 90s, 15m, 6h, 7d)`);
  return ok(ms);
}

/** An instant: ISO 8601 with a time zone (2026-11-03T06:00:00Z), a date (UTC midnight), or "now". */
export function parseInstant(text: string, now: number): Result<number, string> {
  const t = text.trim();
  if (t === 'now') return ok(now);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(t);
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t);
  const ms = dateOnly ? Date.parse(`${t}T00:00:00Z`) : zoned ? Date.parse(t) : NaN;
  if (!Number.isFinite(ms)) return err(`"${text}" is not an instant (ISO 8601 with a zone, e.g. 2026-11-03T06:00:00Z, a date 2026-11-03, or now)`);
  return ok(ms);
}

export interface RangeRequest {
  readonly from?: string;
  readonly to?: string;
  readonly last?: string;
  /** The anchor of `last`; default now. */
  readonly at?: string;
}

/** [from, to) in epoch ms: --from/--to, or --last before --at (default now); --last 24h when none is given. */
export function resolveRange(request: RangeRequest, now: number): Result<{ from: number; to: number }, string> {
  if (request.last !== undefined && (request.from !== undefined || request.to !== undefined))
    return err('give either --last (with --at) or --from/--to, not both');
  if (request.at !== undefined && request.last === undefined) return err('--at anchors --last; give --last too');
  if (request.from !== undefined || request.to !== undefined) {
    const to = request.to === undefined ? ok(now) : parseInstant(request.to, now);
    if (!to.ok) return err(`--to: ${to.error}`);
    if (request.from === undefined) return err('--to needs --from (or use --last)');
    const from = parseInstant(request.from, now);
    if (!from.ok) return err(`--from: ${from.error}`);
    if (from.value >= to.value) return err(`--from (${new Date(from.value).toISOString()}) must be before --to (${new Date(to.value).toISOString()})`);
    return ok({ from: from.value, to: to.value });
  }
  const span = parseDuration(request.last ?? '24h');
  if (!span.ok) return err(`--last: ${span.error}`);
  const anchor = request.at === undefined ? ok(now) : parseInstant(request.at, now);
  if (!anchor.ok) return err(`--at: ${anchor.error}`);
  return ok({ from: anchor.value - span.value, to: anchor.value });
}
