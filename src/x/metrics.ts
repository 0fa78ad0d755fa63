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
export const usageCapped = new Gauge({
  name: 'crowdpulse_x_usage_capped',
  help: "1 while X's usage cap is spent (UsageCapExceeded) and the stream sleeps until the billing period resets.",
  registers: [registry],
});
export const usageCapResetAt = new Gauge({
  name: 'crowdpulse_x_usage_cap_reset_timestamp_seconds',
  help: "When X's usage cap resets, as last learned from UsageCapExceeded (epoch seconds; 0 = never capped).",
  registers: [registry],
});
export const backfillPending = new Gauge({
  name: 'crowdpulse_x_backfill_pending_holes',
  help: 'Holes in the stream waiting to be filled from recent search.',
  registers: [registry],
});
export const backfillHoles = new Counter({
  name: 'crowdpulse_x_backfill_holes_total',
  help: 'Holes backfilled, by outcome (filled: every rule over the whole hole; partial: cut short by the budget, the usage cap, an error or X reach).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const backfillPosts = new Counter({
  name: 'crowdpulse_x_backfill_posts_total',
  help: 'Posts read from recent search by backfill, by outcome (new: handed on; duplicate: the stream or an earlier page had it).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const backfillRequests = new Counter({
  name: 'crowdpulse_x_backfill_requests_total',
  help: 'GET /2/tweets/search/recent requests made by backfill, by outcome (ok, error).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const topicBudgetHeadroom = new Gauge({
  name: 'crowdpulse_x_topic_budget_headroom_posts',
  help: "Posts a topic's budget line allows right now (rules file budgets:); ≤ 0: its rules are off the stream until it has room again.",
  labelNames: ['topic'] as const,
  registers: [registry],
});
export const topicBudgetConsumed = new Gauge({
  name: 'crowdpulse_x_topic_budget_consumed_posts',
  help: 'Posts of a topic with a budget consumed in the current billing period.',
  labelNames: ['topic'] as const,
  registers: [registry],
});
export const topicPaused = new Gauge({
  name: 'crowdpulse_x_topic_paused',
  help: "1 while a topic's rules are taken off the stream because it is ahead of its budget line.",
  labelNames: ['topic'] as const,
  registers: [registry],
});
