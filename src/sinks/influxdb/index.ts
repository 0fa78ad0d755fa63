/** Builds the InfluxDB sink from its config section (sink.kind = influxdb). */
import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import { registerReadiness } from '../../telemetry/health.js';
import { buildEncoder } from './encoder.js';
import { InfluxSink } from './sink.js';
import { InfluxHttp } from './transport.js';

export { InfluxSink } from './sink.js';
export { InfluxHttp } from './transport.js';

export function endpointOf(c: InfluxdbConfig): ConstructorParameters<typeof InfluxHttp>[0] {
  return { url: c.url, org: c.org, bucket: c.bucket, token: c.token, requestTimeoutMs: c.requestTimeoutMs };
}

export function buildInfluxSink(c: InfluxdbConfig, deadLetters: DeadLetterSink): InfluxSink {
  const http = new InfluxHttp(endpointOf(c), c.maxInFlight + 1);
  const encoder = buildEncoder(c.encoder, { measurement: c.measurement, gzipMinBytes: c.gzipMinBytes, gzipLevel: c.gzipLevel }, c.encoderThreads);
  registerReadiness('influxdb', () => http.healthy());
  return new InfluxSink(http, encoder, deadLetters, {
    batchSize: c.batchSize,
    maxBufferPoints: c.maxBufferPoints,
    maxInFlight: c.maxInFlight,
    initialMs: c.retryInitialMs,
    maxDelayMs: c.retryMaxDelayMs,
    retryAfterMaxMs: c.retryAfterMaxMs,
    retryMaxTimeMs: c.retryMaxTimeMs,
  });
}
