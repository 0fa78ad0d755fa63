import { ready as readyGauge } from './metrics.js';

/**
 * Readiness is the conjunction of named checks that components register (e.g. "model loaded",
 * "kafka group joined"). Liveness only says the event loop answers.
 */
export type ReadinessCheck = () => boolean | Promise<boolean>;

const checks = new Map<string, ReadinessCheck>();

export function registerReadiness(name: string, check: ReadinessCheck): void {
  checks.set(name, check);
}

export function clearReadiness(): void {
  checks.clear();
}

export async function readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const results: Record<string, boolean> = {};
  for (const [name, check] of checks) {
    try {
      results[name] = await check();
    } catch {
      results[name] = false;
    }
  }
  const ready = checks.size > 0 && Object.values(results).every(Boolean);
  readyGauge.set(ready ? 1 : 0);
  return { ready, checks: results };
}
