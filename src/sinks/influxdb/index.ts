/** Builds the InfluxDB sink from its config section (sink.kind = influxdb). */
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { ok } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import type { BuildContext, StoreKind } from '../../pipeline/kinds.js';
import { InfluxQuery } from './query.js';
import { influxCoverageWriter } from './coverage.js';
import { influxShiftWriter } from './shifts.js';
import { buildEncoder } from './encoder.js';
import { Roller } from './roller.js';
import { InfluxSink } from './sink.js';
import { endpointOf, InfluxHttp } from './transport.js';

export { InfluxSink } from './sink.js';
export { endpointOf, InfluxHttp } from './transport.js';

/** sink.kind = influxdb: 1.8 (v2-compatible API), 2.x or Cloud; several store replicas may share it. */
export const influxStoreKind: StoreKind<InfluxdbConfig> = {
  section: (config) => config.influxdb,
  build: (section, ctx) => ok(buildInfluxSink(section, ctx.deadLetters, ctx.readiness)),
  query: (section) => ok(new InfluxQuery(section)),
  coverage: (section) => ok(influxCoverageWriter(section)),
  shifts: (section) => ok(influxShiftWriter(section)),
  describe: (section) => `InfluxDB ${section.url} bucket ${section.bucket} (measurement ${section.measurement})`,
};

export function buildInfluxSink(c: InfluxdbConfig, deadLetters: DeadLetterSink, readiness: BuildContext['readiness'] = () => undefined): InfluxSink {
  const http = new InfluxHttp(endpointOf(c), c.maxInFlight + 1);
  const encoder = buildEncoder(c.encoder, { measurement: c.measurement, gzipMinBytes: c.gzipMinBytes, gzipLevel: c.gzipLevel }, c.encoderThreads);
  readiness('influxdb', () => http.healthy());
  return new InfluxSink(
    http,
    encoder,
    deadLetters,
    {
      batchSize: c.batchSize,
      measurement: c.measurement,
      maxBufferPoints: c.maxBufferPoints,
      maxInFlight: c.maxInFlight,
      initialMs: c.retryInitialMs,
      maxDelayMs: c.retryMaxDelayMs,
      retryAfterMaxMs: c.retryAfterMaxMs,
      retryMaxTimeMs: c.retryMaxTimeMs,
    },
    new Roller(c),
  );
}
