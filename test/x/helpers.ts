import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DeadLetter } from '../../src/contract/index.js';
import type { DeadLetterSink } from '../../src/pipeline/component.js';
import { XEmulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { parseRecorded, type RecordedPost } from '../../src/emulator/recorded-posts.js';
import { createXClient } from '../../src/x/client.js';
import type { RestRateLimits } from '../../src/x/rest-rate-limits.js';

export const TOKEN = 'test-bearer-token-123';

const TEXTS: readonly [string, string, Record<string, unknown>?][] = [
  ['I love bitcoin, best day ever', 'en'],
  ['Bitcoin crashed again, terrible', 'en'],
  ['New #AI model released by @openlab today https://t.co/abc', 'en', { entities: { urls: [{ url: 'https://t.co/abc' }] } }],
  ['RT @someone: bitcoin to the moon', 'en', { referenced_tweets: [{ type: 'retweeted', id: '42' }] }],
  ['El bitcoin sube hoy', 'es'],
  ['Machine learning is fun', 'en'],
  ['the weather is lovely', 'en'],
  ['#ai and bitcoin together', 'en'],
  ['bitcoin 🚀 très bien, ça monte — 比特币', 'fr'],
];

/** Synthetic recorded posts (written here, not copied from any data set). */
export function syntheticPosts(n = TEXTS.length): RecordedPost[] {
  const out: RecordedPost[] = [];
  for (let i = 0; i < n; i++) {
    const [text, lang, extra] = TEXTS[i % TEXTS.length]!;
    const line = JSON.stringify({
      data: { id: String(1_000_000 + i), text, lang, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ...extra },
    });
    out.push(parseRecorded(line)!);
  }
  return out;
}

export async function startEmulator(opts: Partial<EmulatorOptions> = {}): Promise<XEmulator> {
  return XEmulator.start({ posts: syntheticPosts(), bearerToken: TOKEN, rate: 200, keepAliveMs: 100, ...opts });
}

export function clientFor(emu: XEmulator, token = TOKEN, rateLimits?: RestRateLimits) {
  return createXClient({ bearerToken: token, apiUrl: emu.url, ...(rateLimits ? { rateLimits } : {}) });
}

export class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async write(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
  }
  async close(): Promise<void> {}
}

/** Polls `predicate` every 5 ms of real time until true, or throws after `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const execCli = promisify(execFile);

/** Runs bin/crowdpulse.js with `args`, in an environment without the caller's CROWDPULSE_* and X token, plus `env`. */
export async function crowdpulse(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_') && k !== 'X_BEARER_TOKEN'));
  try {
    const r = await execCli(process.execPath, ['bin/crowdpulse.js', ...args], { env: { ...clean, ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
