import { Counter, Gauge } from 'prom-client';
import { registry } from '../telemetry/metrics.js';

/** Metrics of the X stream source and the post-budget governor (on the shared registry). */
export const budgetCap = new Gauge({
  name: 'crowdpulse_x_budget_cap_posts',
  help: 'Posts the governor may consume in the current billing period (cap minus reserve).',
  registers: [registry],
});
export const budgetConsumed = new Gauge({
  name: 'crowdpulse_x_budget_consumed_posts',
  help: 'Posts consumed in the current billing period (local count, reconciled with GET /2/usage/tweets).',
  registers: [registry],
});
export const budgetRemaining = new Gauge({
  name: 'crowdpulse_x_budget_remaining_posts',
  help: 'Posts left in the current billing period.',
  registers: [registry],
});
export const budgetHeadroom = new Gauge({
  name: 'crowdpulse_x_budget_headroom_posts',
  help: 'Posts the budget line allows right now (negative: ahead of the line, stream paused).',
  registers: [registry],
});
export const budgetExhaustion = new Gauge({
  name: 'crowdpulse_x_budget_projected_exhaustion_timestamp_seconds',
  help: 'When the budget runs out at the period-to-date consumption rate (epoch seconds; 0 = nothing consumed yet).',
  registers: [registry],
});
export const budgetPeriodEnd = new Gauge({
  name: 'crowdpulse_x_budget_period_end_timestamp_seconds',
  help: 'End of the current billing period (epoch seconds).',
  registers: [registry],
});
export const streamConnected = new Gauge({
  name: 'crowdpulse_x_stream_connected',
  help: '1 while the filtered-stream connection is open.',
  registers: [registry],
});
export const streamReconnects = new Counter({
  name: 'crowdpulse_x_stream_reconnects_total',
  help: 'Stream connections ended or refused, by cause (network, stall, http, rate_limit, too_many_connections, usage_cap, budget, closed_by_server, error_payload).',
  labelNames: ['cause'] as const,
  registers: [registry],
});
export const streamMessages = new Counter({
  name: 'crowdpulse_x_stream_messages_total',
  help: 'Frames read from the stream, by kind (post, keepalive, malformed, error_payload).',
  labelNames: ['kind'] as const,
  registers: [registry],
});
export const streamBackoffSeconds = new Gauge({
  name: 'crowdpulse_x_stream_backoff_seconds',
  help: 'The delay before the next connection attempt (0 while connected).',
  registers: [registry],
});
