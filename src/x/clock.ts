/**
 * Time as the X components see it. Production uses the system clock; tests use ManualClock to
 * simulate reconnect delays, keep-alive timeouts and a whole billing month without waiting.
 */
import { CrowdpulseError } from '../errors.js';
export interface Clock {
  now(): number;
  /** Resolves after `ms` (of this clock's time); rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  timer(ms: number, fn: () => void): () => void;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CrowdpulseError('CP_ABORTED', 'aborted');
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = (): void => {
        clearTimeout(t);
        reject(abortError(signal!));
      };
      const t = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  timer: (ms, fn) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly duration: number;
  readonly kind: 'sleep' | 'timer';
  readonly fire: () => void;
}

/**
 * A clock that moves only when told to. `sleeps()` lists what is waiting (so a test can check that a
 * reconnect waits exactly 250 ms), `advance(ms)` fires everything due, in order.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];
  private waiters: (() => void)[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const id = ++this.seq;
      const onAbort = (): void => {
        this.pending = this.pending.filter((p) => p.id !== id);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.add({
        id,
        at: this.current + Math.max(0, ms),
        duration: ms,
        kind: 'sleep',
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      });
    });
  }

  timer(ms: number, fn: () => void): () => void {
    const id = ++this.seq;
    this.add({ id, at: this.current + Math.max(0, ms), duration: ms, kind: 'timer', fire: fn });
    return () => {
      this.pending = this.pending.filter((p) => p.id !== id);
    };
  }

  /** Durations of the sleeps now waiting, oldest first (timers excluded). */
  sleeps(): number[] {
    return this.pending.filter((p) => p.kind === 'sleep').map((p) => p.duration);
  }

  /** Resolves once some sleep is pending (checked whenever one is added). */
  async waitForSleep(predicate: (ms: number) => boolean = () => true): Promise<number> {
    for (;;) {
      const found = this.pending.find((p) => p.kind === 'sleep' && predicate(p.duration));
      if (found) return found.duration;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Moves time forward by `ms`, firing everything due in time order, letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > target) break;
      this.pending.shift();
      this.current = Math.max(this.current, next.at);
      next.fire();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.current = target;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private add(p: Pending): void {
    this.pending.push(p);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
