import { shiftJson, type ShiftWriter } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import { SqliteEventWriter } from './event-writer.js';
import { CREATE_SHIFTS } from './schema.js';

/** Detected shifts into the embedded store's table sentiment_shifts; the same shift written again replaces itself. */
export const sqliteShiftWriter = (path: string): ShiftWriter =>
  new SqliteEventWriter<ShiftEvent>(
    path,
    CREATE_SHIFTS,
    `INSERT INTO sentiment_shifts (topic, kind, detected_at, direction, change_at, event) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (topic, kind, detected_at) DO UPDATE SET direction = excluded.direction, change_at = excluded.change_at, event = excluded.event`,
    (e) => [e.topic, e.kind, Date.parse(e.detectedAt), e.direction, Date.parse(e.changeAt), shiftJson(e)],
  );
