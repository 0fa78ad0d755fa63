import type { RejectionCode } from './rejection.js';

export type Stage = 'ingest' | 'analyze' | 'store';

/** A message crowdpulse refused: where, why, and the original bytes so that it can be replayed or inspected. */
export interface DeadLetter {
  readonly stage: Stage;
  readonly code: RejectionCode;
  readonly reason: string;
  readonly original: Uint8Array;
  /** Where the message came from (file:line, topic/partition/offset, stream), when known. */
  readonly origin?: string;
  readonly at: number;
}

export function deadLetter(stage: Stage, code: RejectionCode, reason: string, original: Uint8Array | string, origin?: string): DeadLetter {
  const bytes = typeof original === 'string' ? Buffer.from(original, 'utf8') : original;
  return origin === undefined
    ? { stage, code, reason, original: bytes, at: Date.now() }
    : { stage, code, reason, original: bytes, origin, at: Date.now() };
}
