/**
 * X stream framing on raw bytes: messages end with `\r\n`; an empty message is a keep-alive.
 * Works on Buffers so that a UTF-8 character split across TCP chunks stays intact, and hands each
 * message's exact bytes on (for validation or a dead letter).
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes = 16 * 1024 * 1024) {}

  /** Splits a chunk; calls `onLine` for every complete message (empty Buffer = keep-alive). */
  push(chunk: Buffer, onLine: (line: Buffer) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      let piece = chunk.subarray(start, nl);
      if (this.pending.length > 0) {
        piece = Buffer.concat([...this.pending, piece]);
        this.pending = [];
        this.pendingBytes = 0;
      }
      start = nl + 1;
      onLine(piece.length > 0 && piece[piece.length - 1] === 0x0d ? piece.subarray(0, piece.length - 1) : piece);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) {
        // A runaway line: hand what we have on as one (it will be dead-lettered), keep going.
        const line = Buffer.concat([...this.pending, rest]);
        this.pending = [];
        this.pendingBytes = 0;
        onLine(line);
        return;
      }
      this.pending.push(Buffer.from(rest));
    }
  }

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}
