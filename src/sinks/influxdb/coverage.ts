import { CrowdpulseError } from '../../errors.js';
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import type { CoverageWriter } from '../../pipeline/coverage-recorder.js';
import type { CoverageEvent } from '../../query/coverage.js';
import { escapeMeasurement } from './line-protocol.js';
import { endpointOf, InfluxHttp } from './transport.js';

/** The measurement coverage events go to: the store's own, suffixed (one bucket, one retention). */
export const coverageMeasurement = (c: Pick<InfluxdbConfig, 'measurement'>): string => `${c.measurement}_coverage`;

/** A string field value: '\' and '"' escaped (line protocol). */
const stringField = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * Coverage events as points `<measurement>_coverage state="…",detail="…" <ns>`: fields, no tags
 * (a handful of events per hour needs no index). Two events in the same millisecond get
 * consecutive nanoseconds, so that neither overwrites the other.
 */
export function encodeCoverage(events: readonly CoverageEvent[], measurement: string): string {
  const m = escapeMeasurement(measurement);
  return events.map((e, i) => `${m} state=${stringField(e.state)},detail=${stringField(e.detail)} ${BigInt(e.at) * 1_000_000n + BigInt(i)}`).join('\n');
}

export class InfluxCoverageWriter implements CoverageWriter {
  readonly #http: InfluxHttp;
  readonly #measurement: string;

  constructor(c: InfluxdbConfig) {
    this.#http = new InfluxHttp(endpointOf(c), 1);
    this.#measurement = coverageMeasurement(c);
  }

  async write(events: readonly CoverageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const outcome = await this.#http.write(Buffer.from(encodeCoverage(events, this.#measurement), 'utf8'), false);
    if (outcome.kind === 'ok') return;
    throw new CrowdpulseError(
      'CP_COVERAGE_WRITE',
      outcome.kind === 'http' ? `HTTP ${outcome.status}: ${outcome.message}` : `${outcome.code}: ${outcome.message}`,
    );
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
