import type { ITwitterApiClientPlugin, TwitterRateLimit } from 'twitter-api-v2';
import { CrowdpulseError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { logger } from '../telemetry/log.js';

const log = logger('x.rate-limits');

export interface EndpointLimit {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets. */
  readonly reset: number;
}

/** Thrown (by the plugin, before sending) when an endpoint's window is spent for longer than the caller will wait. */
export class RateLimitedError extends CrowdpulseError<'CP_X_RATE_LIMITED'> {
  constructor(
    readonly endpoint: string,
    readonly resetAt: number,
  ) {
    super('CP_X_RATE_LIMITED', `X rate limit for ${endpoint} is spent until ${new Date(resetAt).toISOString()}`);
  }
}

/**
 * Per-endpoint REST limits learned from X's x-rate-limit-* headers: a request to an endpoint whose
 * window is spent waits until the window resets (up to `maxWaitMs`), instead of drawing a 429.
 */
export class RestRateLimits {
  private readonly endpoints = new Map<string, EndpointLimit>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly maxWaitMs = 15 * 60 * 1000,
  ) {}

  get(endpoint: string): EndpointLimit | undefined {
    return this.endpoints.get(endpoint);
  }

  record(endpoint: string, rateLimit: TwitterRateLimit | undefined): void {
    if (!rateLimit || !Number.isFinite(rateLimit.limit)) return;
    this.endpoints.set(endpoint, { limit: rateLimit.limit, remaining: rateLimit.remaining, reset: rateLimit.reset });
  }

  /** Milliseconds to wait before `endpoint` may be called (0 when it may be called now). */
  delayFor(endpoint: string): number {
    const state = this.endpoints.get(endpoint);
    if (!state || state.remaining > 0) return 0;
    return Math.max(0, state.reset * 1000 - this.clock.now());
  }

  async acquire(endpoint: string): Promise<void> {
    const delay = this.delayFor(endpoint);
    if (delay === 0) return;
    if (delay > this.maxWaitMs) throw new RateLimitedError(endpoint, this.clock.now() + delay);
    log.warn('rate limit window spent; waiting for reset', { endpoint, waitMs: delay });
    await this.clock.sleep(delay);
    const state = this.endpoints.get(endpoint);
    if (state) this.endpoints.set(endpoint, { ...state, remaining: state.limit });
  }

  plugin(): ITwitterApiClientPlugin {
    const key = (method: string | undefined, url: URL): string => `${(method ?? 'GET').toUpperCase()} ${url.pathname.replace(/^.*?(\/2\/)/, '$1')}`;
    return {
      onBeforeRequestConfig: async ({ url, params }) => {
        await this.acquire(key(params.method, url));
      },
      onAfterRequest: ({ url, params, response }) => {
        this.record(key(params.method, url), response.rateLimit);
      },
      onResponseError: ({ url, params, error }) => {
        this.record(key(params.method, url), error.rateLimit);
      },
    };
  }
}

/** The endpoint key the limiter uses for a path: "GET /2/usage/tweets". */
export const endpointKey = (method: string, path: string): string => `${method.toUpperCase()} ${path}`;
