import type { Config } from '../config/schema.js';
import { CrowdpulseError } from '../errors.js';
import { collectProcessMetrics, queueCapacity, queueDepth } from '../telemetry/metrics.js';
import { startTelemetryServer, type RouteHandler, type TelemetryServer } from '../telemetry/http-server.js';
import { logger } from '../telemetry/log.js';
import { accessTokenFor, readAccessToken } from '../telemetry/http-access.js';

const log = logger('lifecycle');

/**
 * Starts the role's one HTTP port (/metrics, /healthz, /readyz, plus the role's routes) when enabled.
 * Beyond loopback it needs the access token (CP_HTTP_TOKEN otherwise); `selfAuthenticated`: paths
 * of routes that check their own token.
 */
export async function startRoleHttp(
  role: string,
  config: Config,
  routes: readonly RouteHandler[] = [],
  selfAuthenticated: readonly string[] = [],
): Promise<TelemetryServer | undefined> {
  collectProcessMetrics(role);
  if (!config.http.enabled) return undefined;
  const token = accessTokenFor(config.http.host, readAccessToken(process.env, config.http.tokenFile));
  try {
    const server = await startTelemetryServer(config.http.host, config.http.port, routes, { token, selfAuthenticated });
    log.info(`${role}: metrics, health and readiness on ${server.url}${token === undefined ? '' : ' (access token required, but for /healthz and /readyz)'}`);
    return server;
  } catch (e) {
    throw new CrowdpulseError(
      'CP_HTTP_LISTEN',
      `cannot listen on ${config.http.host}:${config.http.port} (http.port / --port / CROWDPULSE_HTTP_PORT): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Mirrors the depth of each queue into the crowdpulse_queue_depth gauge. Returns a stop function. */
export function watchQueues(
  queues: readonly { readonly name: string; readonly depth: number; readonly capacity: number }[],
  onTick?: () => void,
  everyMs = 250,
): () => void {
  for (const q of queues) queueCapacity.set({ queue: q.name }, q.capacity);
  const timer = setInterval(() => {
    for (const q of queues) queueDepth.set({ queue: q.name }, q.depth);
    onTick?.();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** First SIGINT/SIGTERM calls `stop` (drain and exit cleanly); a second one exits at once. */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => void): () => void {
  let seen = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (seen) {
      log.warn(`second ${signal}: exiting without draining`);
      process.exit(130);
    }
    seen = true;
    log.info(`${signal}: finishing in-flight batches, then exiting`);
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** How a role's pipeline ended: it finished (source exhausted, or stopped and drained), or the drain ran out of time. */
export type PipelineEnd = 'done' | 'drain_timeout';

/**
 * Waits for the pipeline. Once `stopped()` turns true (SIGTERM), what is in flight gets `drainMs`
 * to finish; past that the role closes anyway: what was not acked is read again by the next run
 * (a replay is idempotent, a Kafka consumer re-reads uncommitted offsets). Rejects on a stage failure.
 */
export async function awaitDrain(pipeline: { readonly done: Promise<void> }, stopped: () => boolean, drainMs: number): Promise<PipelineEnd> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<PipelineEnd>((resolve) => {
    const check = (): void => {
      timer = stopped() ? setTimeout(() => resolve('drain_timeout'), drainMs) : setTimeout(check, 100);
    };
    check();
  });
  try {
    const end = await Promise.race([pipeline.done.then(() => 'done' as const), bound]);
    if (end === 'drain_timeout') {
      // Closing the components fails what is still in flight: that is expected now, not a failure to report.
      pipeline.done.catch(() => undefined);
      log.warn(`in-flight batches did not finish within ${drainMs} ms; closing anyway`);
    }
    return end;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Close steps, run in reverse order of opening; every step runs even when an earlier one fails. */
export class Closer {
  readonly #steps: { readonly what: string; readonly close: () => Promise<void> }[] = [];

  /** Registers what was just opened; returns it, so that opening and registering read as one line. */
  add<T>(what: string, component: T, close: (c: T) => Promise<void>): T {
    this.#steps.push({ what, close: () => close(component) });
    return component;
  }

  /**
   * Closes everything, last opened first; throws the first failure after all steps ran. With
   * `boundMs`, closing as a whole gets that long: a step still closing then (a client waiting on a
   * broker that is gone) fails it with CP_CLOSE_TIMEOUT, naming that step and those left unclosed,
   * so that the process can exit instead of hanging until it is killed.
   */
  async closeAll(boundMs?: number): Promise<void> {
    const deadline = boundMs === undefined ? Infinity : performance.now() + boundMs;
    const steps = this.#steps.splice(0).reverse();
    let first: Error | undefined;
    for (const [i, { what, close }] of steps.entries()) {
      try {
        log.debug(`closing ${what}`);
        await withinDeadline(close(), deadline, () => {
          const left = steps.slice(i + 1).map((s) => s.what);
          return new CrowdpulseError(
            'CP_CLOSE_TIMEOUT',
            `closing ${what} did not finish within ${boundMs} ms${left.length > 0 ? `; not closed: ${left.join(', ')}` : ''}`,
          );
        });
      } catch (e) {
        log.error(`closing ${what} failed`, { error: (e as Error).message });
        first ??= e as Error;
        if (e instanceof CrowdpulseError && e.code === 'CP_CLOSE_TIMEOUT') break;
      }
    }
    if (first) throw first;
  }
}

/** `work`, or `timeout()`'s error once `deadline` (performance.now() time) has passed. */
async function withinDeadline(work: Promise<void>, deadline: number, timeout: () => Error): Promise<void> {
  if (deadline === Infinity) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), Math.max(0, deadline - performance.now()));
  });
  try {
    await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
