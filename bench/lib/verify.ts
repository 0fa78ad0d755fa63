/**
 * The correctness gate of every bench run: the store holds exactly the expected (post, topic) rows
 * per topic, no more, no fewer, and the planted bad lines became dead letters with the right codes.
 * A run that fails it is reported as failed, and its timings are not used.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Expected } from './expected.js';

export interface Verdict {
  readonly ok: boolean;
  /** Every discrepancy, in words (empty when ok). */
  readonly problems: readonly string[];
  readonly storedPosts: number;
  readonly storedRowsPerTopic: Record<string, number>;
}

export function compareRows(
  expected: Expected,
  rowsPerTopic: ReadonlyMap<string, number> | Record<string, number>,
  distinctPosts: number | undefined,
  duplicateKeys = 0,
): Verdict {
  const got: Record<string, number> = rowsPerTopic instanceof Map ? Object.fromEntries<number>(rowsPerTopic) : { ...(rowsPerTopic as Record<string, number>) };
  const problems: string[] = [];
  for (const [topic, n] of Object.entries(expected.rowsPerTopic)) {
    const have = got[topic] ?? 0;
    if (have < n) problems.push(`topic ${topic}: ${n - have} posts lost (${have} of ${n} stored)`);
    if (have > n) problems.push(`topic ${topic}: ${have - n} posts too many (${have}, expected ${n})`);
  }
  for (const [topic, n] of Object.entries(got)) if (!(topic in expected.rowsPerTopic)) problems.push(`topic ${topic}: ${n} unexpected rows`);
  if (distinctPosts !== undefined && distinctPosts !== expected.posts) problems.push(`${distinctPosts} distinct posts stored, expected ${expected.posts}`);
  if (duplicateKeys !== 0) problems.push(`${duplicateKeys} duplicated (post, topic) keys`);
  return { ok: problems.length === 0, problems, storedPosts: distinctPosts ?? Number.NaN, storedRowsPerTopic: got };
}

/** Dead letters written to an ndjson dead-letter file, by code. */
export function deadLettersInFile(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const code = (JSON.parse(line) as { code: string }).code;
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}

export function compareDeadLetters(expected: Expected, got: Record<string, number>): string[] {
  const problems: string[] = [];
  const codes = new Set([...Object.keys(expected.deadLettersByCode), ...Object.keys(got)]);
  for (const code of codes) {
    const want = expected.deadLettersByCode[code] ?? 0;
    const have = got[code] ?? 0;
    if (want !== have) problems.push(`dead letters ${code}: ${have}, expected ${want}`);
  }
  return problems;
}
