import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { matchable, type MatchablePost } from '../x/rule-language.js';

/** One recorded stream message the emulator can serve; `recorded matching_rules` are dropped (rules are re-evaluated). */
export interface RecordedPost {
  readonly data: Record<string, unknown>;
  readonly includes?: unknown;
  readonly features: MatchablePost;
}

export interface LoadedPosts {
  readonly posts: RecordedPost[];
  /** Lines that were not a stream message with data.id and data.text (counted, not served). */
  readonly skipped: number;
}

/** Reads ndjson or ndjson.gz of X stream messages (`{data, includes?, matching_rules?}`). */
export async function loadRecordedPosts(path: string, limit = 0): Promise<LoadedPosts> {
  let input: Readable = createReadStream(path);
  if (path.endsWith('.gz')) input = input.pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity });
  const posts: RecordedPost[] = [];
  let skipped = 0;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const post = parseRecorded(line);
    if (post) posts.push(post);
    else skipped++;
    if (limit > 0 && posts.length >= limit) break;
  }
  return { posts, skipped };
}

export function parseRecorded(line: string): RecordedPost | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null) return undefined;
  const { data, includes } = msg as { data?: unknown; includes?: unknown };
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.id !== 'string' || typeof d.text !== 'string') return undefined;
  return includes === undefined ? { data: d, features: matchable(d) } : { data: d, includes, features: matchable(d) };
}
