import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '../contract/result.js';
import { CrowdpulseError } from '../errors.js';

/** A missing, unreadable or rejected X credential, phrased as the one line a user sees (never the token itself). */
export class CredentialError extends CrowdpulseError<'CP_X_CREDENTIALS'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_X_CREDENTIALS', message, options);
  }
}

export const TOKEN_ENV_NAMES = ['CROWDPULSE_X_BEARER_TOKEN', 'X_BEARER_TOKEN'] as const;

/**
 * The X bearer token, only from the environment (CROWDPULSE_X_BEARER_TOKEN, then X_BEARER_TOKEN) or from
 * a secret file (x.bearerTokenFile, e.g. a mounted Kubernetes secret). Never from config files or flags,
 * so it does not end up in shell history, process lists or printed configs.
 */
export function readBearerToken(env: NodeJS.ProcessEnv, tokenFile: string | undefined): Result<string, CredentialError> {
  if (tokenFile !== undefined && tokenFile !== '') {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (e) {
      return err(
        new CredentialError(`X credentials: cannot read bearer token file ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`),
      );
    }
    const token = text.trim();
    if (token === '') return err(new CredentialError(`X credentials: bearer token file ${tokenFile} is empty`));
    return ok(token);
  }
  for (const name of TOKEN_ENV_NAMES) {
    const value = env[name]?.trim();
    if (value) return ok(value);
  }
  return err(
    new CredentialError(
      `X credentials: no bearer token; set ${TOKEN_ENV_NAMES.join(' or ')}, or x.bearerTokenFile (CROWDPULSE_X_BEARER_TOKEN_FILE) to a file holding it`,
    ),
  );
}

/** One line for an auth failure answered by X (401/403), without echoing the token. */
export function rejectedTokenError(status: number, detail: string | undefined): CredentialError {
  return new CredentialError(
    `X credentials: the bearer token was rejected (HTTP ${status}${detail ? `: ${detail}` : ''}); check that it belongs to an app in a Project with filtered-stream access`,
  );
}
