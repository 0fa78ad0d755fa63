import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { operationalDisconnect } from './x-errors.js';

/** Fault injection on the stream (admin endpoint, CLI flags, or tests). */
export type Fault =
  | { readonly kind: 'drop' }
  /** No posts and no keep-alives for `ms` (the connection stays open). */
  | { readonly kind: 'stall'; readonly ms: number }
  /** For `ms`, write the stream `bytes` bytes at a time every `intervalMs`. */
  | { readonly kind: 'drip'; readonly ms: number; readonly bytes?: number; readonly intervalMs?: number }
  /** One line that is not JSON (a truncated message). */
  | { readonly kind: 'malformed' }
  /** X's operational-disconnect error payload in the stream; `close` then ends the connection as X does. */
  | { readonly kind: 'error'; readonly close?: boolean }
  /** The next `count` connection attempts are answered with HTTP `status` (e.g. 503) before any stream opens. */
  | { readonly kind: 'refuse'; readonly status: number; readonly count: number };

export const FAULT_KINDS = ['drop', 'stall', 'drip', 'malformed', 'error', 'refuse'] as const;

const CRLF = '\r\n';
export const MALFORMED_LINE = '{"data":{"id":"1","text":"truncated mid-messa';

/**
 * One open `GET /2/tweets/search/stream` response: writes `\r\n`-framed messages, keep-alives, and
 * whatever faults are injected. The server decides what to send; this decides how bytes reach the socket.
 */
export class StreamConnection {
  private queue: Buffer[] = [];
  private stalledUntil = 0;
  private dripUntil = 0;
  private dripBytes = 7;
  private dripIntervalMs = 5;
  private dripTimer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  closed = false;
  postsSent = 0;

  /**
   * `out` is where stream bytes go: the response itself, or a gzip stream piped into it.
   * `onWritable` is called when a full socket has drained and the connection is ready again, so that
   * the server can hand it more at once rather than at its next tick.
   */
  constructor(
    private readonly res: ServerResponse,
    private readonly onClose: (c: StreamConnection) => void,
    private readonly out: Writable = res,
    private readonly onWritable?: (c: StreamConnection) => void,
  ) {
    res.on('close', () => this.finish());
    out.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
      if (this.onWritable && this.ready(Date.now())) this.onWritable(this);
    });
  }

  /** True when the connection should be handed more posts now (not stalled, nothing queued, socket not full). */
  ready(now: number): boolean {
    return !this.closed && now >= this.stalledUntil && this.queue.length === 0 && !this.waitingDrain;
  }

  stalled(now: number): boolean {
    return now < this.stalledUntil;
  }

  sendMessage(message: unknown): void {
    this.enqueue(JSON.stringify(message) + CRLF);
  }

  keepAlive(now: number): void {
    if (this.closed || this.stalled(now) || this.queue.length > 0) return;
    this.enqueue(CRLF);
  }

  apply(fault: Fault, now: number): void {
    switch (fault.kind) {
      case 'drop':
        this.res.socket?.destroy();
        this.finish();
        return;
      case 'stall':
        this.stalledUntil = now + fault.ms;
        return;
      case 'drip':
        this.dripUntil = now + fault.ms;
        this.dripBytes = Math.max(1, fault.bytes ?? 7);
        this.dripIntervalMs = Math.max(1, fault.intervalMs ?? 5);
        return;
      case 'malformed':
        this.enqueue(MALFORMED_LINE + CRLF);
        return;
      case 'error':
        this.enqueue(JSON.stringify(operationalDisconnect()) + CRLF);
        if (fault.close) this.end();
        return;
      case 'refuse':
        return;
    }
  }

  /** Ends the response after what is queued (X closing the stream). */
  end(): void {
    if (this.closed) return;
    this.flushAll();
    this.out.end();
    this.finish();
  }

  private enqueue(text: string): void {
    if (this.closed) return;
    this.queue.push(Buffer.from(text, 'utf8'));
    this.flush();
  }

  private flushAll(): void {
    for (const b of this.queue) this.out.write(b);
    this.queue = [];
  }

  private flush(): void {
    if (this.closed || this.waitingDrain) return;
    if (Date.now() < this.dripUntil) {
      if (!this.dripTimer) this.dripTimer = setTimeout(() => this.dripStep(), this.dripIntervalMs);
      return;
    }
    while (this.queue.length > 0) {
      const b = this.queue.shift()!;
      if (!this.out.write(b)) {
        this.waitingDrain = true;
        return;
      }
    }
  }

  private dripStep(): void {
    this.dripTimer = undefined;
    if (this.closed) return;
    const head = this.queue[0];
    if (head) {
      const piece = head.subarray(0, this.dripBytes);
      if (piece.length === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(this.dripBytes);
      if (!this.out.write(piece)) this.waitingDrain = true;
    }
    this.flush();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.dripTimer) clearTimeout(this.dripTimer);
    this.queue = [];
    this.onClose(this);
  }
}
