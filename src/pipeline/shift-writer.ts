import type { ShiftEvent } from '../query/shift-event.js';

/** Where detected shifts are stored (a store kind's table or measurement of their own). Writes are idempotent per (topic, kind, detectedAt). */
export interface ShiftWriter {
  write(events: readonly ShiftEvent[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A shift as JSON: an infinite volume change (from a baseline without posts) is written as null,
 * which JSON has, and read back as Infinity.
 */
export const shiftJson = (event: ShiftEvent): string =>
  JSON.stringify({ ...event, volumeChange: Number.isFinite(event.volumeChange) ? event.volumeChange : null });

export function shiftOfJson(json: string): ShiftEvent | undefined {
  try {
    const parsed = JSON.parse(json) as ShiftEvent & { volumeChange: number | null };
    if (typeof parsed.topic !== 'string' || typeof parsed.detectedAt !== 'string') return undefined;
    return { ...parsed, volumeChange: parsed.volumeChange ?? Infinity };
  } catch {
    return undefined;
  }
}
