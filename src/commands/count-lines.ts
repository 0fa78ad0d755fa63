import { existsSync } from 'node:fs';
import type { FramerLimits } from '../sources/line-framer.js';
import { readNdjsonLines } from '../sources/replay/ndjson-lines.js';

/** Non-blank lines of a recorded file (capped at `limit` when > 0), for the progress bar's total; undefined if unreadable. */
export async function countLines(path: string, limit: number, lineLimits: FramerLimits): Promise<number | undefined> {
  if (!existsSync(path)) return undefined;
  let n = 0;
  for await (const _ of readNdjsonLines(path, lineLimits)) {
    n += 1;
    if (limit > 0 && n >= limit) break;
  }
  return n;
}
