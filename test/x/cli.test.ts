import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { XEmulator } from '../../src/emulator/server.js';
import { crowdpulse, startEmulator, TOKEN } from './helpers.js';

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
