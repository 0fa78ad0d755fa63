import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric crowdpulse's core pipeline emits, defined in one place (Prometheus conventions:
 * crowdpulse_ prefix, _total for counters, base units). Components of other areas define theirs in
 * their own module, on this same registry.
 */
export const registry = new Registry();

let defaultsCollected = false;
/** Process metrics (CPU, heap, event-loop lag), main thread only. */
export function collectProcessMetrics(role: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: 'crowdpulse_' });
}

export const postsTotal = new Counter({
  name: 'crowdpulse_posts_total',
  help: 'Posts handled, by stage (ingest: read and emitted by the origin source; analyze; store: written durably) and direction (in, out).',
  labelNames: ['stage', 'direction'] as const,
  registers: [registry],
});

export const deadLettersTotal = new Counter({
  name: 'crowdpulse_dead_letters_total',
  help: 'Messages refused and sent to the dead-letter sink, by stage and reason code.',
  labelNames: ['stage', 'code'] as const,
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'crowdpulse_queue_depth',
  help: 'Items waiting in a bounded in-process queue.',
  labelNames: ['queue'] as const,
  registers: [registry],
});

export const queueCapacity = new Gauge({
  name: 'crowdpulse_queue_capacity',
  help: 'Capacity (items) of a bounded in-process queue.',
  labelNames: ['queue'] as const,
  registers: [registry],
});

/**
 * What the pipeline runner records for every stage of every role (Vector's component spec: every
 * component emits these), labelled by component name (replay, x-stream, sentiment, sqlite,
 * influxdb, kafka:<topic>). Components emit none of these themselves.
 */
export const stageItemsTotal = new Counter({
  name: 'crowdpulse_stage_items_total',
  help: 'Items into and out of a pipeline stage (source: out only; sink: out = made durable), by component.',
  labelNames: ['component', 'direction'] as const,
  registers: [registry],
});

export const stageBatchSize = new Histogram({
  name: 'crowdpulse_stage_batch_size',
  help: 'Items per batch a pipeline stage handled, by component.',
  labelNames: ['component'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
  registers: [registry],
});

export const stageSeconds = new Histogram({
  name: 'crowdpulse_stage_seconds',
  help: 'Time a transform or sink took for one batch, by component.',
  labelNames: ['component'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const stageErrorsTotal = new Counter({
  name: 'crowdpulse_stage_errors_total',
  help: 'Batches a stage failed on (the pipeline then stops), by component.',
  labelNames: ['component'] as const,
  registers: [registry],
});

export const inferenceSeconds = new Histogram({
  name: 'crowdpulse_inference_seconds',
  help: 'Time of one batched inference call in a worker (tokenization + model), by model.',
  labelNames: ['model'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const endToEndSeconds = new Histogram({
  name: 'crowdpulse_end_to_end_latency_seconds',
  help: 'From ingest to durable storage, per post (recorded by the runner at every store sink).',
  // Finer between 0.25 s and 1.5 s, around the 1 s latency goal, so that a p99 there is not just "somewhere in 0.5–1 s".
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.375, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const ready = new Gauge({
  name: 'crowdpulse_ready',
  help: '1 when the process reports ready on /readyz.',
  registers: [registry],
});

/** Alerts POSTed to alerts.webhookUrl (src/alerts/webhook.ts); its queue is `alerts.webhook` in crowdpulse_queue_depth/_capacity. */
export const alertWebhookDeliveriesTotal = new Counter({
  name: 'crowdpulse_alert_webhook_deliveries_total',
  help: 'Alerts the webhook notifier finished with, by outcome (delivered: a 2xx; failed: refused or out of attempts; dropped: pushed out of the full queue or still unsent at shutdown).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const alertWebhookAttemptsTotal = new Counter({
  name: 'crowdpulse_alert_webhook_attempts_total',
  help: 'Webhook requests sent, by result (ok, http_<status>, timeout, network, aborted at shutdown); attempts beyond the first of an alert are its retries.',
  labelNames: ['result'] as const,
  registers: [registry],
});

/** Shifts detected (src/shifts/detector.ts), stored and alerted on; the Prometheus rule CrowdpulseSentimentShift fires on it. */
export const sentimentShiftsTotal = new Counter({
  name: 'crowdpulse_sentiment_shifts_total',
  help: "Significant shifts of a topic's sentiment detected, by topic, direction (up, down) and kind (mean: the mean score; volume: posts per minute).",
  labelNames: ['topic', 'direction', 'kind'] as const,
  registers: [registry],
});
