import type { Config } from '../config/schema.js';
import { collectProcessMetrics, queueCapacity, queueDepth } from '../telemetry/metrics.js';
import { startTelemetryServer, type RouteHandler, type TelemetryServer } from '../telemetry/http-server.js';
import { logger } from '../telemetry/log.js';

const log = logger('lifecycle');

/** Starts the role's one HTTP port (/metrics, /healthz, /readyz, plus the role's routes) when enabled. */
export async function startRoleHttp(role: string, config: Config, routes: readonly RouteHandler[] = []): Promise<TelemetryServer | undefined> {
  collectProcessMetrics(role);
  if (!config.http.enabled) return undefined;
  try {
    const server = await startTelemetryServer(config.http.host, config.http.port, routes);
    log.info(`${role}: metrics, health and readiness on ${server.url}`);
    return server;
  } catch (e) {
    throw new Error(`cannot listen on ${config.http.host}:${config.http.port} (http.port / --port / CROWDPULSE_HTTP_PORT): ${(e as Error).message}`);
  }
}

/** Mirrors the depth of each queue into the crowdpulse_queue_depth gauge. Returns a stop function. */
export function watchQueues(queues: readonly { readonly name: string; readonly depth: number; readonly capacity: number }[], onTick?: () => void, everyMs = 250): () => void {
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
