import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../telemetry/metrics.js';

/** Kafka transport metrics, on the shared registry. */

export const consumerLag = new Gauge({
  name: 'crowdpulse_kafka_consumer_lag_messages',
  help: 'Messages between the partition high watermark and the group committed offset (librdkafka stats).',
  labelNames: ['group', 'topic', 'partition'] as const,
  registers: [registry],
});

export const produceLatency = new Histogram({
  name: 'crowdpulse_kafka_produce_latency_seconds',
  help: 'From produce() to the broker acknowledgement (delivery report), per message.',
  labelNames: ['topic'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const producedTotal = new Counter({
  name: 'crowdpulse_kafka_produced_messages_total',
  help: 'Messages acknowledged by the broker.',
  labelNames: ['topic'] as const,
  registers: [registry],
});

export const deliveryErrors = new Counter({
  name: 'crowdpulse_kafka_delivery_errors_total',
  help: 'Messages whose delivery failed (they are produced again, up to kafka.deliveryRetries rounds).',
  labelNames: ['topic', 'code'] as const,
  registers: [registry],
});

export const consumedTotal = new Counter({
  name: 'crowdpulse_kafka_consumed_messages_total',
  help: 'Messages read from Kafka.',
  labelNames: ['group', 'topic'] as const,
  registers: [registry],
});

export const rebalances = new Counter({
  name: 'crowdpulse_kafka_rebalances_total',
  help: 'Partition assignments and revocations seen by this consumer.',
  labelNames: ['group', 'kind'] as const,
  registers: [registry],
});

export const assignedPartitions = new Gauge({
  name: 'crowdpulse_kafka_assigned_partitions',
  help: 'Partitions assigned to this consumer.',
  labelNames: ['group'] as const,
  registers: [registry],
});

export const pausedPartitions = new Gauge({
  name: 'crowdpulse_kafka_paused_partitions',
  help: 'Assigned partitions paused because too many messages are in flight (un-acked).',
  labelNames: ['group'] as const,
  registers: [registry],
});

export const inFlightMessages = new Gauge({
  name: 'crowdpulse_kafka_in_flight_messages',
  help: 'Messages handed to the pipeline and not yet acked.',
  labelNames: ['group'] as const,
  registers: [registry],
});

export const commitsTotal = new Counter({
  name: 'crowdpulse_kafka_commits_total',
  help: 'Offset commits, by result (ok, error).',
  labelNames: ['group', 'result'] as const,
  registers: [registry],
});
