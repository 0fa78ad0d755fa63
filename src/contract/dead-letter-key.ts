import { createHash } from 'node:crypto';
import type { DeadLetter } from './dead-letter.js';

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * A stable id of a dead letter: the same refusal of the same input gives the same id on every
 * run, so that a rerun's letters can be deduplicated (the Kafka record key; a compacted
 * dead-letter topic keeps one of each). SHA-256 hex of
 * `${stage}\n${origin ?? ''}\n${code}\n${sha256 of the whole original}`, where the whole original's
 * hash is `truncated.sha256` when only the start of the message was kept. `reason` and `at` are
 * not part of it (wording and time differ between runs).
 */
export function deadLetterKey(letter: DeadLetter): string {
  const body = letter.truncated?.sha256 ?? sha256(letter.original);
  return sha256(`${letter.stage}\n${letter.origin ?? ''}\n${letter.code}\n${body}`);
}
