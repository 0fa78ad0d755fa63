import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReconnectBackoff } from '../../src/x/backoff.js';
import { billingPeriod } from '../../src/x/billing-period.js';

describe("X's documented reconnect backoff", () => {
  it('network: +250 ms per attempt up to 16 s', () => {
    const b = new ReconnectBackoff();
    const seq = Array.from({ length: 66 }, () => b.next('network', 0));
    assert.deepEqual(seq.slice(0, 4), [250, 500, 750, 1000]);
    assert.equal(seq[63], 16_000);
    assert.equal(seq[65], 16_000);
  });
  it('http: exponential from 5 s up to 320 s', () => {
    const b = new ReconnectBackoff();
    assert.deepEqual(
      Array.from({ length: 9 }, () => b.next('http', 0)),
      [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 320_000, 320_000],
    );
  });
  it('429: exponential from 60 s, never before x-rate-limit-reset', () => {
    const b = new ReconnectBackoff();
    assert.equal(b.next('rate_limit', 1_000, 1_000 + 300_000), 300_000);
    assert.equal(b.next('too_many_connections', 0), 120_000);
    b.reset();
    assert.equal(b.next('too_many_connections', 0), 60_000);
  });
  it('schedules are independent; a stall counts as a network error', () => {
    const b = new ReconnectBackoff();
    b.next('http', 0);
    assert.equal(b.next('stall', 0), 250);
    assert.equal(b.next('http', 0), 10_000);
  });
  it('billing periods start on the reset day (UTC), clamped to short months', () => {
    assert.deepEqual(billingPeriod(Date.UTC(2026, 2, 10, 5), 15), { start: Date.UTC(2026, 1, 15), end: Date.UTC(2026, 2, 15) });
    assert.deepEqual(billingPeriod(Date.UTC(2026, 1, 28, 12), 31), { start: Date.UTC(2026, 1, 28), end: Date.UTC(2026, 2, 31) });
    assert.deepEqual(billingPeriod(Date.UTC(2026, 11, 31), 1), { start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
  });
});
