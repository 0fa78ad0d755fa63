import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crowdpulse } from './helpers.js';
import { createXClient } from '../../src/x/client.js';
import type { Clock } from '../../src/x/clock.js';
import { countRecent, countRules, countsWindow, MAX_WINDOW_MS } from '../../src/x/rules-counts.js';
import { withBudgets, writeBudgets } from '../../src/x/rules-budgets-file.js';
import { loadRulesDocument } from '../../src/x/rules.js';
import { planRules } from '../../src/x/rules-plan.js';
import { budgetsYaml, planJson, planTable } from '../../src/x/rules-plan-output.js';
import { billingPeriod } from '../../src/x/billing-period.js';
import { tempDir } from '../helpers.js';

const DAY = 86_400_000;

/** A stand-in for GET /2/tweets/counts/recent in X's shape: two pages per query, a 429 on the first call. */
class CountsStub {
  readonly calls: URLSearchParams[] = [];
  constructor(private limitedOnce = false) {}
  server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (u.pathname === '/2/usage/tweets') return send(200, { data: { project_usage: '1234', project_cap: '10000', cap_reset_day: 1, project_id: '1' } });
      if (u.pathname !== '/2/tweets/counts/recent') return send(404, { title: 'Not Found Error' });
      this.calls.push(u.searchParams);
      const query = u.searchParams.get('query') ?? '';
      if (query === 'refused:op')
        return send(400, {
          errors: [{ message: "There were errors processing your request: Reference to invalid operator 'refused'" }],
          title: 'Invalid Request',
        });
      if (!this.limitedOnce) {
        this.limitedOnce = true;
        const reset = Math.ceil(Date.now() / 1000) + 2;
        return send(
          429,
          { title: 'Too Many Requests', status: 429 },
          { 'x-rate-limit-limit': '300', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
        );
      }
      const page = u.searchParams.get('next_token') === null ? 1 : 2;
      const n = query.length; // a deterministic count per query: its length, per bucket
      const data = [
        { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T01:00:00.000Z', tweet_count: n },
        { start: '2026-01-01T01:00:00.000Z', end: '2026-01-01T02:00:00.000Z', tweet_count: n * page },
      ];
      send(200, { data, meta: { total_tweet_count: n + n * page, ...(page === 1 ? { next_token: 'p2' } : {}) } });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

describe('#14.5 counts for rules plan: GET /2/tweets/counts/recent, every page, 429 waits for x-rate-limit-reset', () => {
  const stub = new CountsStub();
  before(async () => {
    await stub.start();
  });
  after(async () => {
    stub.server.close();
  });
  const slept: number[] = [];
  const clock: Clock = {
    now: () => Date.now(),
    sleep: async (ms) => {
      slept.push(ms);
    },
    timer: () => () => undefined,
  };

  it('the window is at most X 7 days, on whole seconds, ending just before now', () => {
    const now = Date.parse('2026-01-11T12:00:00.500Z');
    const w = countsWindow(now, 30 * DAY);
    assert.equal(w.clamped, true);
    assert.equal(w.end, Date.parse('2026-01-11T11:59:30Z'));
    assert.ok(w.end - w.start < MAX_WINDOW_MS && w.end - w.start > MAX_WINDOW_MS - 2 * 60_000);
    const day = countsWindow(now, DAY);
    assert.deepEqual(day, { start: Date.parse('2026-01-10T11:59:30Z'), end: Date.parse('2026-01-11T11:59:30Z'), clamped: false });
  });

  it('sums every page; a 429 waits until the reset and retries; sends query, start_time, end_time, granularity, next_token', async () => {
    const client = createXClient({ bearerToken: 't', apiUrl: stub.url });
    const window = { start: Date.parse('2026-01-04T00:00:00Z'), end: Date.parse('2026-01-11T00:00:00Z') };
    const n = await countRecent(client, 'bitcoin', window, { granularity: 'hour', clock });
    assert.equal(n, 7 + 7 + 7 + 14, 'two pages of two buckets');
    assert.equal(slept.length, 1, 'one wait, for the 429');
    assert.ok(slept[0]! > 0 && slept[0]! <= 4000, `waited for the reset (${slept[0]} ms)`);
    const [limited, first, second] = stub.calls;
    assert.equal(limited!.get('query'), 'bitcoin');
    assert.equal(first!.get('start_time'), '2026-01-04T00:00:00.000Z');
    assert.equal(first!.get('end_time'), '2026-01-11T00:00:00.000Z');
    assert.equal(first!.get('granularity'), 'hour');
    assert.equal(first!.get('next_token'), null);
    assert.equal(second!.get('next_token'), 'p2');
  });

  it('countRules counts each rule; a query X refuses is a CP_X_API naming the rule', async () => {
    const client = createXClient({ bearerToken: 't', apiUrl: stub.url });
    const window = { start: 0, end: DAY };
    const counts = await countRules(
      client,
      [
        { value: 'ab', tag: 'x' },
        { value: 'abc', tag: 'y' },
      ],
      window,
      { granularity: 'day', clock },
    );
    assert.deepEqual(counts, [
      { value: 'ab', tag: 'x', count: 2 * 5 },
      { value: 'abc', tag: 'y', count: 3 * 5 },
    ]);
    await assert.rejects(
      countRules(client, [{ value: 'refused:op', tag: 'z' }], window, { granularity: 'day', clock }),
      (e: unknown) =>
        (e as { code: string }).code === 'CP_X_API' && /rules\.0 \(tag z\) "refused:op": X answered HTTP 400: .*invalid operator/.test((e as Error).message),
    );
  });
});

describe('#14.5 rules plan output and --write', () => {
  const now = Date.parse('2026-01-11T00:00:00Z');
  const plan = planRules({
    counts: [
      { value: 'acme', tag: 'brand-a', count: 7000 },
      { value: 'vote', tag: 'election', count: 700 },
    ],
    window: { start: now - 7 * DAY, end: now },
    now,
    period: billingPeriod(now, 1),
    monthlyCap: 10_000,
    reserve: 50,
    used: 4000,
  });
  const ctx = { file: 'rules.yaml', granularity: 'hour' as const, clamped: false, monthlyCap: 10_000, reserve: 50 };

  it('a table per rule and per topic, the cap sentence, the run-out date and a budgets block ready to paste', () => {
    const text = planTable(plan, ctx);
    assert.match(text, /TOPIC +RULE +IN WINDOW +PER DAY +FORECAST/);
    assert.match(text, /brand-a +acme +7,000 +1,000 +31,000/);
    assert.match(text, /brand-a +1 +1,000 +31,000 +6,850/);
    assert.match(text, /does not fit the usable cap 9,950 \(x\.monthlyCap 10,000 - x\.reserve 50\): a max-min fair split/);
    assert.match(text, /usage this period: 4,000 posts .*runs out at 2026-01-16T09:49Z/);
    assert.match(text, /an upper bound/);
    assert.match(text, /budgets:\n {2}brand-a: 6850\n {2}election: 3100\n$/);
    assert.equal(budgetsYaml(plan), 'budgets:\n  brand-a: 6850\n  election: 3100\n');
    const json = JSON.parse(planJson(plan, ctx)) as Record<string, unknown>;
    assert.deepEqual(json.budgets, { 'brand-a': 6850, election: 3100 });
    assert.equal((json.runOut as { kind: string; at: string }).at, '2026-01-16T09:49:05.454Z');
    assert.equal(json.usableCap, 9950);
  });

  it('--write puts the budgets into the file, keeping its rules and comments; replaces a budgets block already there', () => {
    const dir = tempDir('plan');
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, '# our topics\nrules:\n  # the brand\n  - {value: acme, tag: brand-a}\n  - value: vote\n    tag: election\n');
    const first = writeBudgets(
      file,
      new Map([
        ['brand-a', 6850],
        ['election', 3100],
      ]),
    );
    assert.ok(first.ok, first.ok ? '' : first.error.message);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# our topics\nrules:\n {2}# the brand\n {2}- \{ value: acme, tag: brand-a \}\n/);
    assert.match(text, /budgets:\n {2}brand-a: 6850\n {2}election: 3100\n$/);
    assert.ok(
      writeBudgets(
        file,
        new Map([
          ['brand-a', 1],
          ['election', 2],
        ]),
      ).ok,
    );
    const doc = loadRulesDocument(file);
    assert.ok(doc.ok);
    assert.deepEqual(doc.value.rules, [
      { value: 'acme', tag: 'brand-a' },
      { value: 'vote', tag: 'election' },
    ]);
    assert.deepEqual(
      [...doc.value.budgets],
      [
        ['brand-a', 1],
        ['election', 2],
      ],
    );
    assert.equal((readFileSync(file, 'utf8').match(/budgets:/g) ?? []).length, 1);
    assert.equal(withBudgets('- a\n', new Map(), 'f').ok, false, 'not a rules file: nothing written');
  });
});

describe('crowdpulse rules plan (the CLI, against a stand-in for X counts and usage endpoints)', () => {
  const stub = new CountsStub(true);
  const dir = tempDir('plan-cli');
  const file = join(dir, 'rules.yaml');
  before(async () => {
    await stub.start();
    writeFileSync(file, '# topics\nrules:\n  - {value: acme, tag: brand-a}\n  - {value: "#acme", tag: brand-a}\n  - {value: vote, tag: election}\n');
  });
  after(async () => {
    stub.server.close();
  });
  const env = (): Record<string, string> => ({ CROWDPULSE_X_API_URL: stub.url, CROWDPULSE_X_BEARER_TOKEN: 't' });

  it('--json: forecasts per rule and topic, budgets summing to the usable cap, the usage X reports; --write puts them into the file', async () => {
    const r = await crowdpulse(['rules', 'plan', '-f', file, '--json', '--window', '30d', '--granularity', 'day', '--write'], env());
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as {
      window: { clamped: boolean; granularity: string };
      topics: { tag: string; rules: number; windowCount: number; budget: number }[];
      used: number;
      usedEstimated: boolean;
      fits: boolean;
      usableCap: number;
      budgets: Record<string, number>;
    };
    assert.equal(plan.window.clamped, true, '30d is cut to 7 days');
    assert.equal(plan.window.granularity, 'day');
    assert.deepEqual(
      plan.topics.map((t) => [t.tag, t.rules, t.windowCount]),
      [
        ['brand-a', 2, 20 + 25],
        ['election', 1, 20],
      ],
    );
    assert.equal(plan.used, 1234);
    assert.equal(plan.usedEstimated, false);
    assert.equal(plan.fits, true);
    assert.equal(plan.usableCap, 9950);
    assert.equal(
      Object.values(plan.budgets).reduce((a, b) => a + b, 0),
      9950,
    );
    assert.ok(stub.calls.every((c) => c.get('granularity') === 'day'));
    assert.match(r.stderr, /budgets written for 2 topics/);
    const doc = loadRulesDocument(file);
    assert.ok(doc.ok);
    assert.deepEqual(Object.fromEntries(doc.value.budgets), plan.budgets);
    assert.match(readFileSync(file, 'utf8'), /^# topics\n/);
    const valid = await crowdpulse(['rules', 'validate', '--offline', '-f', file], env());
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /3 rules valid \(offline\)/);
  });

  it('the table, and a wrong flag is a usage error (exit 2)', async () => {
    const r = await crowdpulse(['rules', 'plan', '-f', file], { ...env(), CROWDPULSE_X_MONTHLY_CAP: '50', CROWDPULSE_X_RESERVE: '0' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /does not fit the usable cap 50/);
    assert.match(r.stdout, /usage this period: 1,234 posts \(GET \/2\/usage\/tweets\); the usable cap is already spent/);
    assert.match(r.stdout, /budgets:\n {2}brand-a: 25\n {2}election: 25\n$/);
    const bad = await crowdpulse(['rules', 'plan', '-f', file, '--granularity', 'week'], env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--granularity: "week" is not one of minute, hour, day \(CP_USAGE\)/);
  });
});
