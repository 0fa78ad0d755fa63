/**
 * Access control of a role's HTTP port. On loopback it is open. Bound anywhere else (0.0.0.0 in a
 * container) every path but the probes needs the access token: `Authorization: Bearer <token>`
 * (Prometheus: `authorization.credentials_file`), or the `crowdpulse_token` cookie, which a browser
 * gets by opening any page once with `?token=<token>` (the dashboard). Routes that check a token of
 * their own (the rules admin API) are left to it.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { err, ok, type Result } from '../contract/result.js';
import { CrowdpulseError } from '../errors.js';

export const HTTP_TOKEN_ENV = 'CROWDPULSE_HTTP_TOKEN';
const COOKIE = 'crowdpulse_token';
/** Paths any client may read: kubelet and Docker health checks carry no token. */
export const PROBE_PATHS: readonly string[] = ['/healthz', '/readyz'];

/** Loopback only: 127.0.0.0/8, ::1, localhost. Anything else (0.0.0.0, ::, an interface address, a name) is reachable from elsewhere. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/**
 * A token setting: the file when one is named (it must be readable and not empty), else the
 * environment variable; undefined when neither is set. The error says which file and why.
 */
export function readTokenSetting(env: NodeJS.ProcessEnv, envName: string, file: string, fileSetting: string): Result<string | undefined, string> {
  if (file !== '') {
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (e) {
      return err(`cannot read ${fileSetting} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return token === '' ? err(`${fileSetting} ${file} is empty`) : ok(token);
  }
  const token = env[envName]?.trim();
  return ok(token ? token : undefined);
}

/** The access token: http.tokenFile when set, else CROWDPULSE_HTTP_TOKEN; undefined when neither. */
export function readAccessToken(env: NodeJS.ProcessEnv, tokenFile: string): string | undefined {
  const token = readTokenSetting(env, HTTP_TOKEN_ENV, tokenFile, 'http.tokenFile');
  if (!token.ok) throw new CrowdpulseError('CP_HTTP_TOKEN', token.error);
  return token.value;
}

/**
 * The token the port requires, or undefined for an open port (loopback). A port bound beyond
 * loopback without a token is refused: CP_HTTP_TOKEN.
 */
export function accessTokenFor(host: string, token: string | undefined): string | undefined {
  if (isLoopbackHost(host)) return token;
  if (token === undefined)
    throw new CrowdpulseError(
      'CP_HTTP_TOKEN',
      `http.host ${host} is reachable from other machines, and /metrics and the dashboard would be open to them: set ${HTTP_TOKEN_ENV} or http.tokenFile (Prometheus then scrapes with that bearer token), or bind http.host to 127.0.0.1`,
    );
  if (token.length < 16) throw new CrowdpulseError('CP_HTTP_TOKEN', `the HTTP access token is ${token.length} characters long: use at least 16`);
  return token;
}

export interface AccessCheck {
  /** Answers the request when it may not pass (401, or a redirect that sets the cookie); true = answered. */
  (req: IncomingMessage, res: ServerResponse): boolean;
}

/** A secret compared in constant time. */
export const sameSecret = (given: string, expected: Buffer): boolean => {
  const g = Buffer.from(given);
  return g.length === expected.length && timingSafeEqual(g, expected);
};

/** Whether the request carries `Authorization: Bearer <expected>` (the access token, the rules admin token, the emulator's bearer token). */
export function hasBearer(req: IncomingMessage, expected: Buffer): boolean {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  return bearer !== undefined && sameSecret(bearer, expected);
}

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** The gate in front of every route but `openPaths`. */
export function accessCheck(token: string, openPaths: readonly string[]): AccessCheck {
  const expected = Buffer.from(token);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://crowdpulse');
    if (openPaths.includes(url.pathname)) return false;
    if (hasBearer(req, expected)) return false;
    const cookie = cookieToken(req.headers.cookie);
    if (cookie !== undefined && sameSecret(cookie, expected)) return false;
    const query = url.searchParams.get('token');
    if (query !== null && sameSecret(query, expected) && req.method === 'GET') {
      // The token leaves the address bar (and the history) at once; the cookie carries it from here.
      url.searchParams.delete('token');
      res.writeHead(303, {
        location: `${url.pathname}${url.search}`,
        'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`,
        'cache-control': 'no-store',
      });
      res.end();
      return true;
    }
    res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer realm="crowdpulse"', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: 'unauthorized: send Authorization: Bearer <token>, or open the page once with ?token=<token>', code: 'CP_HTTP_TOKEN' }));
    return true;
  };
}
