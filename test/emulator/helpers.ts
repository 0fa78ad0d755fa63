/** Plain-HTTP helpers for the emulator's timeline tests: a raw stream reader and JSON GETs. */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { XEmulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { syntheticPosts, TOKEN } from '../x/helpers.js';

export { syntheticPosts, TOKEN };

export async function startEmu(opts: Partial<EmulatorOptions> = {}): Promise<XEmulator> {
  return XEmulator.start({ posts: syntheticPosts(), bearerToken: TOKEN, rate: 200, keepAliveMs: 100, ...opts });
}

export interface StreamedPost {
  readonly data: { id: string; text: string; created_at?: string; note_tweet?: { text: string } } & Record<string, unknown>;
  readonly includes?: unknown;
  readonly matching_rules: { id: string; tag?: string }[];
}

export interface StreamReader {
  readonly posts: StreamedPost[];
  /** Every non-empty line, posts or not. */
  readonly lines: string[];
  /** Resolves with the HTTP status once the response starts. */
  readonly status: Promise<number>;
  /** Resolves when the server ends the response (or the socket closes). */
  readonly ended: Promise<void>;
  readonly response: Promise<IncomingMessage>;
  close(): void;
}

/** Opens `GET /2/tweets/search/stream` and collects its `\r\n`-framed messages. */
export function readStream(emu: XEmulator, query = ''): StreamReader {
  const posts: StreamedPost[] = [];
  const lines: string[] = [];
  let resolveStatus!: (s: number) => void;
  let resolveResponse!: (r: IncomingMessage) => void;
  let resolveEnded!: () => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const response = new Promise<IncomingMessage>((r) => (resolveResponse = r));
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const req = httpGet(`${emu.url}/2/tweets/search/stream${query ? `?${query}` : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
    resolveStatus(res.statusCode ?? 0);
    resolveResponse(res);
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (line.trim() === '') continue;
        lines.push(line);
        try {
          const msg = JSON.parse(line) as Partial<StreamedPost>;
          if (msg.data) posts.push(msg as StreamedPost);
        } catch {
          /* not JSON: kept in lines */
        }
      }
    });
    res.on('end', () => {
      if (buffer.trim() !== '') lines.push(buffer);
      resolveEnded();
    });
    res.on('close', () => resolveEnded());
  });
  req.on('error', () => resolveEnded());
  return { posts, lines, status, ended, response, close: () => req.destroy() };
}

export interface JsonReply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export async function getJson<T = Record<string, unknown>>(emu: XEmulator, path: string, params: Record<string, string | number> = {}): Promise<JsonReply<T>> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)] as [string, string])).toString();
  const res = await fetch(`${emu.url}${path}${qs ? `?${qs}` : ''}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

export async function postJson(emu: XEmulator, path: string, body: unknown): Promise<JsonReply> {
  const res = await fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export async function addRules(emu: XEmulator, rules: { value: string; tag?: string }[]): Promise<void> {
  const r = await postJson(emu, '/2/tweets/search/stream/rules', { add: rules });
  if (r.status !== 201) throw new Error(`rules not added: ${JSON.stringify(r.body)}`);
}

export interface SearchBody {
  data?: StreamedPost['data'][];
  includes?: Record<string, unknown[]>;
  meta: { result_count: number; newest_id?: string; oldest_id?: string; next_token?: string };
  errors?: { parameters: Record<string, unknown>; message: string }[];
  title?: string;
  type?: string;
}

/** Every page of a search (newest first), following next_token. */
export async function searchAll(emu: XEmulator, params: Record<string, string | number>): Promise<{ posts: StreamedPost['data'][]; pages: number }> {
  const posts: StreamedPost['data'][] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { max_results: 100, ...params, ...(token ? { next_token: token } : {}) });
    if (r.status !== 200) throw new Error(`search: ${r.status} ${JSON.stringify(r.body)}`);
    pages++;
    posts.push(...(r.body.data ?? []));
    token = r.body.meta.next_token;
  } while (token);
  return { posts, pages };
}

/** Polls `predicate` every 5 ms until true, or throws after `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const iso = (ms: number): string => new Date(ms).toISOString();
