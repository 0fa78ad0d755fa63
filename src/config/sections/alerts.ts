import { z } from 'zod';
import { httpUrl, positiveInt } from '../types.js';

/**
 * Where sentiment-shift alerts go besides the store: a webhook that receives each one as a JSON
 * POST (src/alerts/webhook.ts). Delivery runs beside the pipeline, never in its way: a bounded
 * queue that drops its oldest alert when full, one request at a time, retried with backoff.
 */
export const alertsSection = z
  .object({
    /**
     * Where shifts are detected (src/shifts/detector.ts): store = in the store stage, beside its
     * writes (crowdpulse run; a store role with one replica); only = the store role detects and
     * stores shifts without storing posts (a deployment of its own, with its own Kafka group, so it
     * sees every post); off = not detected.
     */
    shifts: z.enum(['store', 'only', 'off']).default('store'),
    /** Posts may arrive this late (event time) and still count: a bucket is tested once the newest post is this far past its end. */
    shiftLatenessSeconds: positiveInt.default(120),
    /** Topics followed at once; the least recently seen is dropped (and starts its warm-up again if it returns). */
    shiftMaxTopics: positiveInt.default(1000),
    /**
     * Posts in a language the model does not support (flagged non_english): left out of shift
     * detection (exclude, as from every mean and count), or counted (include).
     */
    shiftUnsupportedLanguages: z.enum(['exclude', 'include']).default('exclude'),
    /**
     * http:// or https:// URL the alerts are POSTed to; empty = no webhook. `user:password@` in it
     * is sent as Basic auth. Logs name only the URL's origin (no credentials, path or query).
     */
    webhookUrl: z.literal('').or(httpUrl).default(''),
    /** Sent as `authorization: Bearer <token>` when set (not together with credentials in webhookUrl). Never logged. */
    webhookToken: z.string().default(''),
    /** Longest one request may take (connect, headers and body); a timeout is retried. */
    webhookTimeoutMs: positiveInt.default(10_000),
    /** Requests per alert at most, the first included, before it is given up (logged CP_ALERT_WEBHOOK_FAILED). */
    webhookMaxAttempts: positiveInt.default(5),
    /** Backoff: full jitter over min(max, initial·2^(retry−1)); an honoured Retry-After is capped at retryMaxDelayMs too. */
    webhookRetryInitialMs: positiveInt.default(500),
    webhookRetryMaxDelayMs: positiveInt.default(30_000),
    /** Alerts waiting behind the one in flight; a new one beyond this drops the oldest (logged CP_ALERT_WEBHOOK_DROPPED). */
    webhookQueueCapacity: positiveInt.default(1000),
  })
  .refine((a) => !(a.webhookToken !== '' && a.webhookUrl !== '' && hasCredentials(a.webhookUrl)), {
    path: ['webhookToken'],
    error: 'set either alerts.webhookToken or user:password in alerts.webhookUrl, not both',
  })
  .prefault({});

export type AlertsConfig = z.infer<typeof alertsSection>;

function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}
