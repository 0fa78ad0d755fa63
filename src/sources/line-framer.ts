import { createHash, type Hash } from 'node:crypto';
import { oversizedOf, type OversizedMessage } from '../contract/index.js';

/** One `\n`-terminated line (a trailing `\r` removed), or what is known of one that was too long. */
export type Frame =
  | { readonly kind: 'line'; readonly bytes: Buffer; readonly lineNo: number }
  | { readonly kind: 'oversized'; readonly message: OversizedMessage; readonly lineNo: number };

export interface FramerLimits {
  /** Longest line kept whole, in bytes (limits.maxMessageBytes). */
  readonly maxLineBytes: number;
  /** Bytes of an oversized line kept for its dead letter (limits.deadLetterSnippetBytes). */
  readonly keepBytes: number;
}

/** The framer's limits from the config's `limits` section. */
export function framerLimits(limits: { readonly maxMessageBytes: number; readonly deadLetterSnippetBytes: number }): FramerLimits {
  return { maxLineBytes: limits.maxMessageBytes, keepBytes: limits.deadLetterSnippetBytes };
}

/**
 * Splits a byte stream into lines on raw bytes (a UTF-8 character split across chunks stays
 * intact, invalid UTF-8 is seen rather than replaced), with memory bounded by the longest line
 * kept: past `maxLineBytes` a line keeps only its first `keepBytes`, its length and its SHA-256
 * until its end. Used by the replay files and the X stream alike.
 */
export class LineFramer {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #overflow: { head: Buffer; hash: Hash; length: number } | undefined;
  #lineNo = 0;

  constructor(private readonly limits: FramerLimits) {}

  /** Frames every line completed by `chunk` (an empty line is a frame too: keep-alives are). */
  push(chunk: Buffer, emit: (frame: Frame) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      if (this.#pendingBytes === 0 && this.#overflow === undefined) {
        // The usual case: the whole line lies in this chunk, handed on without a copy.
        this.#lineNo += 1;
        emit(this.#frameOf(chunk.subarray(start, nl)));
      } else {
        this.#take(chunk.subarray(start, nl));
        emit(this.#finish());
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
  }

  /** The last line, when the input ended without a newline. */
  end(emit: (frame: Frame) => void): void {
    if (this.#pendingBytes > 0 || this.#overflow !== undefined) emit(this.#finish());
  }

  /** Forgets a partial line (a new connection starts a new stream). */
  reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#overflow = undefined;
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#overflow) {
      this.#overflow.hash.update(piece);
      this.#overflow.length += piece.length;
      return;
    }
    if (this.#pendingBytes + piece.length > this.limits.maxLineBytes + 1) {
      const hash = createHash('sha256');
      for (const p of this.#pending) hash.update(p);
      hash.update(piece);
      const head = Buffer.concat([...this.#pending, piece.subarray(0, this.limits.keepBytes)]).subarray(0, this.limits.keepBytes);
      this.#overflow = { head: Buffer.from(head), hash, length: this.#pendingBytes + piece.length };
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    this.#pending.push(Buffer.from(piece));
    this.#pendingBytes += piece.length;
  }

  #finish(): Frame {
    this.#lineNo += 1;
    const overflow = this.#overflow;
    if (overflow) {
      this.#overflow = undefined;
      return { kind: 'oversized', message: { head: overflow.head, length: overflow.length, sha256: overflow.hash.digest('hex') }, lineNo: this.#lineNo };
    }
    const raw = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#frameOf(raw);
  }

  /** Length and hash of an oversized line cover its raw bytes (a trailing `\r` too), however it was chunked. */
  #frameOf(raw: Buffer): Frame {
    const bytes = withoutCr(raw);
    if (bytes.length > this.limits.maxLineBytes) return { kind: 'oversized', message: oversizedOf(raw, this.limits.keepBytes), lineNo: this.#lineNo };
    return { kind: 'line', bytes, lineNo: this.#lineNo };
  }
}

const withoutCr = (line: Buffer): Buffer => (line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line);
