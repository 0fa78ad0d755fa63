import { setTimeout as sleep } from 'node:timers/promises';

/** Decides when the next `n` posts may be emitted. */
export interface Pacer {
  /** Waits until `n` more posts may go; `createdAtMs` is the recorded time of the last of them. */
  admit(n: number, createdAtMs: number, signal?: AbortSignal): Promise<void>;
}

export const unpaced: Pacer = { admit: async () => undefined };

/** A fixed rate in posts per second, measured from the first admitted post. */
export function fixedRate(postsPerSecond: number, now: () => number = performance.now.bind(performance)): Pacer {
  let start: number | undefined;
  let admitted = 0;
  return {
    async admit(n, _createdAtMs, signal) {
      start ??= now();
      admitted += n;
      const due = start + (admitted / postsPerSecond) * 1000;
      const wait = due - now();
      if (wait > 1) await sleep(wait, undefined, signal ? { signal } : undefined).catch(() => undefined);
    },
  };
}

/** The recorded pace (gaps between created_at), `speed` times faster. */
export function recordedPace(speed: number, now: () => number = performance.now.bind(performance)): Pacer {
  let origin: { wall: number; recorded: number } | undefined;
  return {
    async admit(_n, createdAtMs, signal) {
      if (!Number.isFinite(createdAtMs)) return;
      origin ??= { wall: now(), recorded: createdAtMs };
      const due = origin.wall + (createdAtMs - origin.recorded) / speed;
      const wait = due - now();
      if (wait > 1) await sleep(wait, undefined, signal ? { signal } : undefined).catch(() => undefined);
    },
  };
}
