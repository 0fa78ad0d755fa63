import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import type { XConfig } from '../config/sections/x.js';
import { buildXClient } from '../sources/x-stream/index.js';
import { rejectedTokenError } from './credentials.js';

/** Prints one error line and exits non-zero. */
export function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** The X client for a CLI command, or one clear line and exit 1 when the token is missing. */
export function clientOrExit(x: XConfig): TwitterApi {
  const client = buildXClient(x);
  if (!client.ok) fail(client.error.message);
  return client.value;
}

/** Runs an X API call for a CLI command; a rejected token or other API error becomes one line and exit 1. */
export async function orExit<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof ApiResponseError && (e.code === 401 || e.code === 403)) fail(rejectedTokenError(e.code, (e.data as { detail?: string })?.detail).message);
    if (e instanceof ApiResponseError) fail(`${what}: X answered HTTP ${e.code} ${JSON.stringify(e.data).slice(0, 300)}`);
    fail(`${what}: ${(e as Error).message}`);
  }
}

/** An AbortSignal that fires on SIGINT/SIGTERM (once). */
export function shutdownSignal(): AbortSignal {
  const ac = new AbortController();
  const stop = (): void => ac.abort(new Error('shutdown'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}
