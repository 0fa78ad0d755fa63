import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CrowdpulseError } from '../errors.js';

/** What the governor persists: the count of the billing period it belongs to. */
export interface GovernorState {
  readonly version: 1;
  /** ISO time the billing period started. */
  readonly periodStart: string;
  readonly consumed: number;
  readonly updatedAt: string;
  /** Posts consumed per topic that has a budget (rules file budgets:). */
  readonly topics?: Readonly<Record<string, number>>;
}

/** Reads the state file; a missing file is no state, a corrupt one is an error (never silently zero). */
export function readGovernorState(path: string): GovernorState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CrowdpulseError('CP_X_GOVERNOR_STATE', `governor state ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CrowdpulseError(
      'CP_X_GOVERNOR_STATE',
      `governor state ${path} is not JSON (${(e as Error).message}); move it away to start the count from GET /2/usage/tweets`,
    );
  }
  const s = parsed as Partial<GovernorState>;
  if (
    s.version !== 1 ||
    typeof s.periodStart !== 'string' ||
    Number.isNaN(Date.parse(s.periodStart)) ||
    typeof s.consumed !== 'number' ||
    !Number.isInteger(s.consumed) ||
    s.consumed < 0 ||
    (s.topics !== undefined &&
      (typeof s.topics !== 'object' || s.topics === null || Object.values(s.topics).some((n) => typeof n !== 'number' || !Number.isInteger(n) || n < 0)))
  ) {
    throw new CrowdpulseError(
      'CP_X_GOVERNOR_STATE',
      `governor state ${path} has an unexpected shape; move it away to start the count from GET /2/usage/tweets`,
    );
  }
  return s as GovernorState;
}

/** Atomic write: a temporary file in the same directory, then rename over the old one. */
export function writeGovernorState(path: string, state: GovernorState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}
