import http from 'node:http';
import https from 'node:https';
import { TwitterApi, type ITwitterApiClientPlugin } from 'twitter-api-v2';
import type { RestRateLimits } from './rest-rate-limits.js';

/** Where twitter-api-v2 sends requests (hard-coded in the library). */
export const X_API_ORIGIN = 'https://api.x.com';

export interface XClientOptions {
  readonly bearerToken: string;
  /** Base URL of the API: https://api.x.com for X, http://127.0.0.1:PORT for the emulator. */
  readonly apiUrl?: string;
  /** Per-endpoint REST limits shared by every client of this process. */
  readonly rateLimits?: RestRateLimits;
}

/**
 * twitter-api-v2 hard-codes https://api.x.com/2/ (cloneWithPrefix is broken in 1.29): this plugin
 * rewrites the URL of every REST and stream request to another origin, keeping path and query.
 */
export function urlRewritePlugin(apiUrl: string): ITwitterApiClientPlugin {
  const target = new URL(apiUrl);
  const basePath = target.pathname.replace(/\/+$/, '');
  // The library builds the request from `params.url` (a string) after the hooks; the URL object is a copy.
  const rewrite = ({ params }: { params: { url: string } }): void => {
    const url = new URL(params.url.startsWith('http') ? params.url : `https://${params.url}`);
    if (url.hostname !== 'api.x.com' && url.hostname !== 'api.twitter.com') return;
    params.url = `${target.protocol}//${target.host}${basePath}${url.pathname}${url.search}`;
  };
  return {
    onBeforeRequestConfig: (args) => {
      rewrite(args);
    },
    onBeforeStreamRequestConfig: (args) => {
      rewrite(args);
    },
  };
}

/** A twitter-api-v2 client for X or for an emulator at `apiUrl`. The token is never logged. */
export function createXClient(options: XClientOptions): TwitterApi {
  const apiUrl = options.apiUrl ?? X_API_ORIGIN;
  const plugins: ITwitterApiClientPlugin[] = [];
  const rewriting = new URL(apiUrl).origin !== X_API_ORIGIN;
  if (rewriting) plugins.push(urlRewritePlugin(apiUrl));
  if (options.rateLimits) plugins.push(options.rateLimits.plugin());
  const plainHttp = new URL(apiUrl).protocol === 'http:';
  return new TwitterApi(options.bearerToken, {
    plugins,
    // Plain http (the emulator) needs an http agent: the library defaults to https.
    httpAgent: plainHttp ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true }),
  });
}
