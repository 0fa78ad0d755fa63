import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { CrowdpulseError } from '../../errors.js';
import { shiftJson, type ShiftWriter } from '../../pipeline/shift-writer.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import { encodeTagValue, escapeMeasurement } from './line-protocol.js';
import { endpointOf, InfluxHttp } from './transport.js';

/** The measurement detected shifts go to: the store's own, suffixed. */
export const shiftsMeasurement = (c: Pick<InfluxdbConfig, 'measurement'>): string => `${c.measurement}_shifts`;

const stringField = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * One point per shift: `<measurement>_shifts,direction=..,kind=..,topic=.. event="<json>" <detectedAt ns>`;
 * the same shift written again (a replay) lands on the same series and time and replaces itself.
 */
export function encodeShifts(events: readonly ShiftEvent[], measurement: string): string {
  const m = escapeMeasurement(measurement);
  return events
    .map((e) => {
      const topic = e.topic === '' ? '' : `,topic=${encodeTagValue(e.topic)}`;
      return `${m},direction=${e.direction},kind=${e.kind}${topic} event=${stringField(shiftJson(e))} ${BigInt(Date.parse(e.detectedAt)) * 1_000_000n}`;
    })
    .join('\n');
}

export class InfluxShiftWriter implements ShiftWriter {
  readonly #http: InfluxHttp;
  readonly #measurement: string;

  constructor(c: InfluxdbConfig) {
    this.#http = new InfluxHttp(endpointOf(c), 1);
    this.#measurement = shiftsMeasurement(c);
  }

  async write(events: readonly ShiftEvent[]): Promise<void> {
    if (events.length === 0) return;
    const outcome = await this.#http.write(Buffer.from(encodeShifts(events, this.#measurement), 'utf8'), false);
    if (outcome.kind === 'ok') return;
    throw new CrowdpulseError('CP_SHIFT_WRITE', outcome.kind === 'http' ? `HTTP ${outcome.status}: ${outcome.message}` : `${outcome.code}: ${outcome.message}`);
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
