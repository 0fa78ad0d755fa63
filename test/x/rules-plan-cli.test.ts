import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { XEmulator } from '../../src/emulator/server.js';
import { billingPeriod } from '../../src/x/billing-period.js';
import { matches, parseRule } from '../../src/x/rule-language.js';
import { loadRulesDocument } from '../../src/x/rules.js';
import { crowdpulse, startEmulator, syntheticPosts, TOKEN } from './helpers.js';
import { tempDir } from '../helpers.js';

interface PlanJson {
  now: string;
  window: { start: string; end: string; granularity: string; clamped: boolean };
  period: { start: string; end: string };
  rules: { value: string; tag: string; windowCount: number; forecast: number }[];
  topics: { tag: string; windowCount: number; forecast: number; budget: number }[];
  usableCap: number;
  fits: boolean;
  used: number;
  usedEstimated: boolean;
  runOut: { kind: string; at: string | null };
  budgets: Record<string, number>;
}

const RATE = 1;
const HISTORY_S = 6 * 3600;
const RULES = [
  { value: 'bitcoin', tag: 'crypto' },
  { value: 'bitcoin lang:en', tag: 'crypto' },
  { value: '#ai', tag: 'ai' },
  { value: 'lovely', tag: 'mood' },
];

describe('#14.5 crowdpulse rules plan against the emulator (counts/recent over a back-filled history, usage/tweets)', () => {
  let emu: XEmulator;
  const dir = tempDir('plan-emu');
  const file = join(dir, 'rules.yaml');
  before(async () => {
    emu = await startEmulator({ rate: RATE, historySeconds: HISTORY_S });
    emu.setUsage(2000);
    writeFileSync(file, `# topics\nrules:\n${RULES.map((r) => `  - {value: "${r.value}", tag: ${r.tag}}`).join('\n')}\n`);
  });
  after(async () => {
    await emu.close();
  });

  it('counts each rule exactly, forecasts over the billing period, splits the usable cap fairly, dates the run-out, writes budgets', async () => {
    const r = await crowdpulse(['rules', 'plan', '-f', file, '--json', '--window', '1d', '--granularity', 'minute', '--write'], {
      CROWDPULSE_X_API_URL: emu.url,
      CROWDPULSE_X_BEARER_TOKEN: TOKEN,
    });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as PlanJson;
    const start = Date.parse(plan.window.start);
    const end = Date.parse(plan.window.end);
    const now = Date.parse(plan.now);

    // What the emulator published, by its documented formula (timeline.ts historyPlan): post i at fromMs + ⌊i·1000/r⌋.
    const posts = syntheticPosts();
    const h = emu.history;
    assert.equal(h.count, HISTORY_S * RATE);
    const expected = RULES.map((rule) => {
      const node = parseRule(rule.value);
      assert.ok(node.ok);
      let n = 0;
      for (let i = 0; i < h.count; i++) {
        const t = h.fromMs + Math.floor((i * 1000) / RATE);
        if (t >= start && t < end && matches(node.value, posts[i % posts.length]!.features)) n++;
      }
      return n;
    });
    assert.deepEqual(
      plan.rules.map((x) => x.windowCount),
      expected,
    );
    assert.ok(expected.every((n) => n > 0));
    // A day of minutes is 1,440 buckets, one page, when the window starts on a minute (1 run in 60 here:
    // plan times are whole seconds); otherwise 1,441, more than a page: next_token must be followed.
    if (start % 60_000 !== 0) assert.ok(emu.stats.countsRequests >= RULES.length * 2, 'a day of minutes is more than one page: next_token followed');

    const period = billingPeriod(now, 1);
    const span = end - start;
    for (const [i, rule] of plan.rules.entries())
      assert.equal(rule.forecast, Math.ceil((expected[i]! / span) * (period.end - period.start) - 1e-9), `forecast of ${rule.value}`);
    const crypto = plan.topics.find((t) => t.tag === 'crypto')!;
    assert.equal(crypto.windowCount, expected[0]! + expected[1]!, 'a topic is the sum of its rules (an upper bound)');

    assert.equal(plan.usableCap, 10_000 - 50);
    assert.equal(plan.fits, false, 'a post per second is far over 10,000 a month');
    assert.equal(
      Object.values(plan.budgets).reduce((a, b) => a + b, 0),
      9950,
    );
    const fair = Math.floor(9950 / 3);
    for (const t of plan.topics) assert.ok(t.budget >= Math.min(t.forecast, fair) && t.budget <= t.forecast, `${t.tag}: ${t.budget}`);

    assert.equal(plan.used, 2000);
    assert.equal(plan.usedEstimated, false);
    assert.equal(plan.runOut.kind, 'runs-out');
    const rate = expected.reduce((a, n) => a + n / span, 0);
    const at = now + (9950 - 2000) / rate;
    assert.ok(Math.abs(Date.parse(plan.runOut.at!) - at) <= 1, `run-out ${plan.runOut.at} vs ${new Date(at).toISOString()}`);

    const doc = loadRulesDocument(file);
    assert.ok(doc.ok, doc.ok ? '' : doc.error.message);
    assert.deepEqual(doc.value.rules, RULES);
    assert.deepEqual(Object.fromEntries(doc.value.budgets), plan.budgets);
    assert.match(readFileSync(file, 'utf8'), /^# topics\n/);
  });
});
