import type { Clock } from '../x/clock.js';

/** X's per-endpoint request limits: a fixed 15-minute window per endpoint (per app, since the emulator has one token). */
export const WINDOW_MS = 15 * 60 * 1000;

export interface WindowState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets (the x-rate-limit-reset header). */
  readonly reset: number;
  readonly allowed: boolean;
}

export class RateWindows {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(
    private readonly limits: Readonly<Record<string, number>>,
    private readonly clock: Clock,
  ) {}

  /** Counts one request to `endpoint`; `allowed` is false once the window's limit is spent. */
  take(endpoint: string): WindowState {
    const limit = this.limits[endpoint] ?? 450;
    const now = this.clock.now();
    let w = this.windows.get(endpoint);
    if (!w || now >= w.start + WINDOW_MS) {
      w = { start: now, used: 0 };
      this.windows.set(endpoint, w);
    }
    const allowed = w.used < limit;
    if (allowed) w.used++;
    return { limit, remaining: Math.max(0, limit - w.used), reset: Math.ceil((w.start + WINDOW_MS) / 1000), allowed };
  }
}
