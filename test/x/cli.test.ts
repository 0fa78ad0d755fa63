import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { XEmulator } from '../../src/emulator/server.js';
import { startEmulator, TOKEN } from './helpers.js';

const run = promisify(execFile);

async function crowdpulse(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_') && k !== 'X_BEARER_TOKEN'));
  try {
    const r = await run(process.execPath, ['bin/crowdpulse.js', ...args], { env: { ...clean, ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('crowdpulse rules: credentials errors are one line and a non-zero exit', () => {
  let emu: XEmulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('missing token', async () => {
    const r = await crowdpulse(['rules', 'list'], { CROWDPULSE_X_API_URL: emu.url });
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^\S+ ERROR \[crowdpulse\] X credentials: no bearer token; set CROWDPULSE_X_BEARER_TOKEN or X_BEARER_TOKEN.* \(CP_X_CREDENTIALS\)$/m,
    );
  });

  it('rejected token (never echoed)', async () => {
    const r = await crowdpulse(['rules', 'list'], { CROWDPULSE_X_API_URL: emu.url, X_BEARER_TOKEN: 'wrong-secret-value' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^\S+ ERROR \[crowdpulse\] X credentials: the bearer token was rejected \(HTTP 401.* \(CP_X_CREDENTIALS\)$/m);
    assert.ok(!r.stderr.includes('wrong-secret-value') && !r.stdout.includes('wrong-secret-value'));
  });

  it('a valid token lists the rules', async () => {
    const r = await crowdpulse(['rules', 'list'], { CROWDPULSE_X_API_URL: emu.url, CROWDPULSE_X_BEARER_TOKEN: TOKEN });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no rules/);
  });
});
