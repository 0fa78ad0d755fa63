/** The InfluxDB sink's metrics, on the shared registry. */
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../../telemetry/metrics.js';

export const influxPointsWritten = new Counter({
  name: 'crowdpulse_influxdb_points_written_total',
  help: 'Points the InfluxDB server acknowledged (2xx).',
  registers: [registry],
});

export const influxBatchPoints = new Histogram({
  name: 'crowdpulse_influxdb_batch_points',
  help: 'Points per write request sent to InfluxDB.',
  buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000],
  registers: [registry],
});

export const influxBatchBytes = new Histogram({
  name: 'crowdpulse_influxdb_batch_bytes',
  help: 'Request body bytes per write request (after gzip when applied).',
  buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
  registers: [registry],
});

export const influxWriteSeconds = new Histogram({
  name: 'crowdpulse_influxdb_write_seconds',
  help: 'Latency of one write request to InfluxDB, by outcome (ok, retry, split, dead_letter).',
  labelNames: ['outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const influxEncodeSeconds = new Histogram({
  name: 'crowdpulse_influxdb_encode_seconds',
  help: 'Time to encode (line protocol + gzip) one write request body, by encoder (main, pool).',
  labelNames: ['encoder'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
  registers: [registry],
});

export const influxRetries = new Counter({
  name: 'crowdpulse_influxdb_retries_total',
  help: 'Write requests retried, by reason class (network, http_<status>).',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const influxSplits = new Counter({
  name: 'crowdpulse_influxdb_batch_splits_total',
  help: 'Batches split in two after InfluxDB refused some of their points (400/413/422).',
  registers: [registry],
});

export const influxBufferPoints = new Gauge({
  name: 'crowdpulse_influxdb_buffer_points',
  help: 'Points accepted by the InfluxDB sink and not yet durable.',
  registers: [registry],
});

export const influxBufferCapacity = new Gauge({
  name: 'crowdpulse_influxdb_buffer_capacity_points',
  help: 'Capacity of the InfluxDB sink buffer (points).',
  registers: [registry],
});

export const influxDeadLetteredPoints = new Counter({
  name: 'crowdpulse_influxdb_dead_lettered_points_total',
  help: 'Points whose posts were sent to the dead-letter sink, by decision (refused, unauthorized, gave_up, unencodable).',
  labelNames: ['reason'] as const,
  registers: [registry],
});
