import { createHash } from 'node:crypto';
import type { RejectionCode } from './rejection.js';

export type Stage = 'ingest' | 'analyze' | 'store';

/**
 * A message crowdpulse refused: where, why, and the original bytes so that it can be replayed or
 * inspected. An oversized message keeps only its first bytes (`truncated`), with its whole
 * length and SHA-256, never its whole body.
 */
export interface DeadLetter {
  readonly stage: Stage;
  readonly code: RejectionCode;
  readonly reason: string;
  readonly original: Uint8Array;
  /** Where the message came from (file:line, topic/partition/offset, stream), when known. */
  readonly origin?: string;
  readonly at: number;
  /** Set when `original` is only the start of the message. */
  readonly truncated?: { readonly length: number; readonly sha256: string };
}

export function deadLetter(stage: Stage, code: RejectionCode, reason: string, original: Uint8Array | string, origin?: string): DeadLetter {
  const bytes = typeof original === 'string' ? Buffer.from(original, 'utf8') : original;
  return origin === undefined ? { stage, code, reason, original: bytes, at: Date.now() } : { stage, code, reason, original: bytes, origin, at: Date.now() };
}

/** What is known of a message too large to keep: its first bytes, its length and its SHA-256. */
export interface OversizedMessage {
  readonly head: Uint8Array;
  readonly length: number;
  readonly sha256: string;
}

/** Summarises a whole message that is too large (when it is in memory already, e.g. an encoded record). */
export function oversizedOf(bytes: Uint8Array, keepBytes: number): OversizedMessage {
  return {
    head: bytes.subarray(0, Math.min(keepBytes, bytes.length)),
    length: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** The dead letter of an oversized message: code `oversized`, a truncated copy, its length and hash. */
export function oversizedDeadLetter(stage: Stage, message: OversizedMessage, limitBytes: number, origin?: string): DeadLetter {
  const letter = deadLetter(
    stage,
    'oversized',
    `message of ${message.length} bytes exceeds limits.maxMessageBytes = ${limitBytes} (sha256 ${message.sha256})`,
    message.head,
    origin,
  );
  return { ...letter, truncated: { length: message.length, sha256: message.sha256 } };
}
