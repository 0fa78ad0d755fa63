import { existsSync } from 'node:fs';
import { readNdjsonLines } from '../sources/replay/ndjson-lines.js';

/** Non-blank lines of a recorded file (capped at `limit` when > 0), for the progress bar's total; undefined if unreadable. */
export async function countLines(path: string, limit: number): Promise<number | undefined> {
  if (!existsSync(path)) return undefined;
  let n = 0;
  for await (const _ of readNdjsonLines(path)) {
    n += 1;
    if (limit > 0 && n >= limit) break;
  }
  return n;
}
