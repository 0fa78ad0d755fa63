import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { shiftJson, type ShiftWriter } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import { InfluxEventWriter } from './event-writer.js';
import { encodeTagValue, escapeMeasurement, escapeStringField } from './line-protocol.js';

/** The measurement detected shifts go to: the store's own, suffixed. */
export const shiftsMeasurement = (c: Pick<InfluxdbConfig, 'measurement'>): string => `${c.measurement}_shifts`;

/**
 * One point per shift: `<measurement>_shifts,direction=..,kind=..,topic=.. event="<json>" <detectedAt ns>`;
 * the same shift written again (a replay) lands on the same series and time and replaces itself.
 */
export function encodeShifts(events: readonly ShiftEvent[], measurement: string): string {
  const m = escapeMeasurement(measurement);
  return events
    .map((e) => {
      const topic = e.topic === '' ? '' : `,topic=${encodeTagValue(e.topic)}`;
      return `${m},direction=${e.direction},kind=${e.kind}${topic} event=${escapeStringField(shiftJson(e))} ${BigInt(Date.parse(e.detectedAt)) * 1_000_000n}`;
    })
    .join('\n');
}

export const influxShiftWriter = (c: InfluxdbConfig): ShiftWriter =>
  new InfluxEventWriter<ShiftEvent>(c, (events) => encodeShifts(events, shiftsMeasurement(c)), 'CP_SHIFT_WRITE');
