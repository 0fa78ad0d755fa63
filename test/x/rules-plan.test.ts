import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billingPeriod } from '../../src/x/billing-period.js';
import { forecastPosts, planRules, proposeBudgets, ratePerMs, runOut, waterFill } from '../../src/x/rules-plan.js';

const DAY = 86_400_000;
const T = (iso: string): number => Date.parse(iso);
const JAN = billingPeriod(T('2026-01-11T00:00:00Z'), 1); // 2026-01-01 → 2026-02-01, 31 days

/** A small deterministic PRNG (mulberry32) so that the property runs are the same every time. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('#14.5 rules plan arithmetic (src/x/rules-plan.ts)', () => {
  it('forecast: the rate over the window × the billing period, rounded up', () => {
    assert.equal(JAN.end - JAN.start, 31 * DAY);
    const week = { start: T('2026-01-04T00:00:00Z'), end: T('2026-01-11T00:00:00Z') };
    assert.equal(ratePerMs(7000, week) * DAY, 1000);
    assert.equal(forecastPosts(ratePerMs(7000, week), JAN), 31_000);
    assert.equal(forecastPosts(ratePerMs(1, week), JAN), 5, '31/7 = 4.43 → 5');
    assert.equal(forecastPosts(0, JAN), 0);
    assert.equal(ratePerMs(10, { start: 5, end: 5 }), 0, 'an empty window has no rate');
  });

  it('water-filling on hand-computed cases', () => {
    assert.deepEqual(waterFill([31_000, 3100, 0], 9950), { shares: [6850, 3100, 0], level: 6850 });
    assert.deepEqual(waterFill([100, 100, 100], 100).shares, [34, 33, 33], 'the rounding left-over goes to the first of equals');
    assert.deepEqual(waterFill([10, 500, 20], 100).shares, [10, 70, 20]);
    assert.deepEqual(waterFill([5, 5], 100).shares, [5, 5], 'under the capacity: every demand in full');
    assert.deepEqual(waterFill([7, 9], 0).shares, [0, 0]);
  });

  it('budgets when the forecasts fit: each its forecast plus an equal share of the slack', () => {
    assert.deepEqual(proposeBudgets([31_000, 3100, 0], 100_000), { budgets: [52_967, 25_067, 21_966], fits: true, slack: 65_900 });
    assert.deepEqual(proposeBudgets([], 10), { budgets: [], fits: true, slack: 10 });
  });

  it('properties: the budgets sum to at most the usable cap; a topic gets at least min(forecast, fair share); never more than its forecast when the cap binds', () => {
    const rnd = prng(14);
    for (let run = 0; run < 2000; run++) {
      const n = 1 + Math.floor(rnd() * 8);
      const loud = rnd() < 0.3;
      const forecasts = Array.from({ length: n }, () => Math.floor(rnd() * (loud ? 1_000_000 : 20_000)));
      const cap = Math.floor(rnd() * 120_000);
      const { budgets, fits } = proposeBudgets(forecasts, cap);
      const sum = budgets.reduce((a, b) => a + b, 0);
      const demand = forecasts.reduce((a, b) => a + b, 0);
      const fair = Math.floor(cap / n);
      const msg = `forecasts ${forecasts.join(',')} cap ${cap} → ${budgets.join(',')}`;
      assert.equal(budgets.length, n, msg);
      assert.ok(sum <= cap, `sum ≤ cap: ${msg}`);
      assert.equal(sum, cap, `the whole usable cap is handed out (forecast plus slack, or the fair split): ${msg}`);
      assert.equal(fits, demand <= cap, msg);
      for (const [i, b] of budgets.entries()) {
        assert.ok(Number.isInteger(b) && b >= 0, msg);
        assert.ok(b >= Math.min(forecasts[i]!, fair), `budget ≥ min(forecast, fair share): ${msg}`);
        if (fits) assert.ok(b >= forecasts[i]!, `fits → at least the forecast: ${msg}`);
        else assert.ok(b <= forecasts[i]!, `binds → never more than the forecast: ${msg}`);
      }
      if (!fits) {
        // Max-min fair: a topic short of its forecast has no less than any other topic's budget, but for the rounding unit.
        for (const [i, b] of budgets.entries()) if (b < forecasts[i]!) for (const other of budgets) assert.ok(b >= other - 1, `max-min fair: ${msg}`);
      }
    }
  });

  it('run-out date on hand-computed cases', () => {
    const now = T('2026-01-11T00:00:00Z');
    const perDay = (n: number): number => n / DAY;
    // 5950 posts left at 500/day = 11.9 days → 2026-01-22T21:36Z.
    assert.deepEqual(runOut({ now, used: 4000, usableCap: 9950, rate: perDay(500), period: JAN }), { kind: 'runs-out', at: T('2026-01-22T21:36:00Z') });
    // 5950 left at 100/day = 59.5 days: past the reset on 2026-02-01.
    const lasts = runOut({ now, used: 4000, usableCap: 9950, rate: perDay(100), period: JAN });
    assert.equal(lasts.kind, 'lasts');
    assert.equal((lasts as { reset: number }).reset, T('2026-02-01T00:00:00Z'));
    assert.equal((lasts as { at: number }).at, now + 59.5 * DAY);
    assert.deepEqual(runOut({ now, used: 9950, usableCap: 9950, rate: perDay(1), period: JAN }), { kind: 'spent', at: now });
    assert.equal((runOut({ now, used: 0, usableCap: 9950, rate: 0, period: JAN }) as { at: number }).at, Number.POSITIVE_INFINITY);
    // Exactly at the reset counts as lasting: 21 days left × 100/day from 7850 used.
    assert.equal(runOut({ now, used: 7850, usableCap: 9950, rate: perDay(100), period: JAN }).kind, 'lasts');
  });

  it('planRules: per rule, per topic (the sum of its rules), budgets within x.monthlyCap - x.reserve, run-out from the usage', () => {
    const now = T('2026-01-11T00:00:00Z');
    const window = { start: now - 7 * DAY, end: now };
    const counts = [
      { value: 'acme', tag: 'brand-a' },
      { value: '#acme', tag: 'brand-a' },
      { value: 'vote', tag: 'election' },
      { value: 'hush', tag: 'quiet' },
    ].map((r, i) => ({ ...r, count: [3500, 3500, 700, 0][i]! }));
    const plan = planRules({ counts, window, now, period: JAN, monthlyCap: 10_000, reserve: 50, used: 4000 });
    assert.deepEqual(
      plan.rules.map((r) => r.forecast),
      [15_500, 15_500, 3100, 0],
    );
    assert.deepEqual(
      plan.topics.map((t) => [t.tag, t.rules, t.forecast, t.budget]),
      [
        ['brand-a', 2, 31_000, 6850],
        ['election', 1, 3100, 3100],
        ['quiet', 1, 0, 0],
      ],
    );
    assert.equal(plan.totalForecast, 34_100);
    assert.equal(plan.usableCap, 9950);
    assert.equal(plan.fits, false);
    assert.equal(plan.level, 6850);
    // 5950 left at 1100/day = 5.409 days → 2026-01-16T09:49:05.454Z.
    assert.equal(plan.runOut.kind, 'runs-out');
    assert.equal((plan.runOut as { at: number }).at, Math.floor(now + (5950 / 1100) * DAY));
    assert.equal(plan.usedEstimated, false);

    const estimated = planRules({ counts, window, now, period: JAN, monthlyCap: 10_000, reserve: 50 });
    assert.equal(estimated.usedEstimated, true);
    assert.equal(estimated.used, 11_000, 'unknown usage: the forecast rate since the period began (10 days × 1100)');
    assert.equal(estimated.runOut.kind, 'spent');

    const uncapped = planRules({ counts, window, now, period: JAN, monthlyCap: 0, reserve: 50, used: 0 });
    assert.equal(uncapped.runOut.kind, 'no-cap');
    assert.equal(uncapped.usableCap, undefined);
    assert.ok(uncapped.topics.every((t) => t.budget === undefined));
  });
});
