import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import type { CoverageWriter } from '../../pipeline/coverage-recorder.js';
import type { CoverageEvent } from '../../query/coverage.js';
import { InfluxEventWriter } from './event-writer.js';
import { escapeMeasurement, escapeStringField } from './line-protocol.js';

/** The measurement coverage events go to: the store's own, suffixed (one bucket, one retention). */
export const coverageMeasurement = (c: Pick<InfluxdbConfig, 'measurement'>): string => `${c.measurement}_coverage`;

/**
 * Coverage events as points `<measurement>_coverage state="…",detail="…"[,until=<ms>i] <ns>`: fields,
 * no tags (a handful of events per hour needs no index). Two events in the same millisecond get
 * consecutive nanoseconds, so that neither overwrites the other.
 */
export function encodeCoverage(events: readonly CoverageEvent[], measurement: string): string {
  const m = escapeMeasurement(measurement);
  return events
    .map(
      (e, i) =>
        `${m} state=${escapeStringField(e.state)},detail=${escapeStringField(e.detail)}${e.until === undefined ? '' : `,until=${Math.floor(e.until)}i`} ${BigInt(e.at) * 1_000_000n + BigInt(i)}`,
    )
    .join('\n');
}

export const influxCoverageWriter = (c: InfluxdbConfig): CoverageWriter =>
  new InfluxEventWriter<CoverageEvent>(c, (events) => encodeCoverage(events, coverageMeasurement(c)), 'CP_COVERAGE_WRITE');
