import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import type { XConfig } from '../config/sections/x.js';
import { codeOf, CrowdpulseError } from '../errors.js';
import { buildXClient } from '../sources/x-stream/index.js';
import { rejectedTokenError } from '../x/credentials.js';

/** The X client for a CLI command; a missing token throws its CredentialError (one line and exit 1 from src/cli.ts). */
export function commandClient(x: XConfig): TwitterApi {
  const client = buildXClient(x);
  if (!client.ok) throw client.error;
  return client.value;
}

/**
 * Runs an X API call for a CLI command; a rejected token becomes a CredentialError, another API error
 * CP_X_API (an error that already has a code keeps it), each phrased as the one line src/cli.ts prints.
 */
export async function commandCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ApiResponseError && (e.code === 401 || e.code === 403)) throw rejectedTokenError(e.code, (e.data as { detail?: string })?.detail);
    if (e instanceof ApiResponseError)
      throw new CrowdpulseError('CP_X_API', `${what}: X answered HTTP ${e.code} ${JSON.stringify(e.data).slice(0, 300)}`, { cause: e });
    throw new CrowdpulseError(codeOf(e, 'CP_X_API'), `${what}: ${(e as Error).message}`, { cause: e });
  }
}

/** An AbortSignal that fires on SIGINT/SIGTERM (once). */
export function shutdownSignal(): AbortSignal {
  const ac = new AbortController();
  const stop = (): void => ac.abort(new CrowdpulseError('CP_ABORTED', 'shutdown'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}
