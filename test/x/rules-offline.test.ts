import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { XEmulator } from '../../src/emulator/server.js';
import { checkRulesOffline, rulesProblems, type OfflineLimits } from '../../src/x/rules-offline.js';
import { crowdpulse, startEmulator, TOKEN } from './helpers.js';
import { tempDir } from '../helpers.js';

const LIMITS: OfflineLimits = { maxRules: 1000, maxRuleLength: 512, monthlyCap: 10_000 };
const kinds = (doc: unknown, limits = LIMITS): string[] => rulesProblems(doc, limits).map((p) => `${p.kind} ${p.where}`);

describe('#14.5 rules validate --offline: every problem of a rules file, without the API', () => {
  it('a valid file has no problems', () => {
    const doc = {
      rules: [
        { value: '(bitcoin OR #btc) lang:en -is:retweet', tag: 'crypto' },
        { value: '@openlab has:links', tag: 'ai' },
      ],
      budgets: { crypto: 6000, ai: 4000 },
    };
    assert.deepEqual(kinds(doc), []);
    const r = checkRulesOffline(doc, 'f', LIMITS);
    assert.ok(r.ok);
    assert.equal(r.value.document.budgets.get('crypto'), 6000);
  });

  it('shape: not a mapping, no rules list, unknown keys, a rule without value or tag', () => {
    assert.deepEqual(kinds(null), ['shape (root)']);
    assert.deepEqual(kinds({ rules: 'x' }), ['shape rules']);
    assert.deepEqual(kinds({ rule: [] }), ['shape rule', 'shape rules']);
    assert.deepEqual(kinds({ rules: [{ value: 'a', tags: 'x' }, 'b', { tag: 'y' }] }), [
      'shape rules.0.tags',
      'tag rules.0.tag',
      'shape rules.1',
      'shape rules.2.value',
    ]);
  });

  it('syntax (with the rule and why), length, count, duplicate values, empty tags, tags spelled two ways', () => {
    const problems = rulesProblems(
      {
        rules: [
          { value: 'foo:bar baz', tag: 'a' },
          { value: 'x'.repeat(20), tag: 'b' },
          { value: 'bitcoin', tag: 'Brand-A' },
          { value: 'bitcoin', tag: 'brand-a' },
          { value: 'ok', tag: '  ' },
        ],
      },
      { maxRules: 4, maxRuleLength: 12, monthlyCap: 0 },
    );
    assert.deepEqual(
      problems.map((p) => `${p.kind} ${p.where}`),
      ['count rules', 'syntax rules.0', 'length rules.1', 'duplicate rules.3', 'tag rules.4.tag', 'tag rules'],
    );
    assert.match(problems[1]!.message, /^rules\.0 \(tag a\) "foo:bar baz": Reference to invalid operator 'foo'/);
    assert.match(problems[2]!.message, /20 characters, over the limit of 12 \(x\.maxRuleLength\)/);
    assert.match(problems[0]!.message, /5 rules, over the limit of 4 \(x\.maxRules\)/);
    assert.match(problems[3]!.message, /repeats the value of rules\.2/);
    assert.match(problems[5]!.message, /"Brand-A" \(rules\.2\) and "brand-a" \(rules\.3\) differ only in case/);
  });

  it('budgets: a budget names a tag of the file, is a whole non-negative number, and they sum to at most x.monthlyCap', () => {
    const rules = [
      { value: 'a', tag: 'brand-a' },
      { value: 'b', tag: 'election' },
    ];
    assert.deepEqual(kinds({ rules, budgets: { 'brand-a': 6000, election: 4000 } }), []);
    const problems = rulesProblems({ rules, budgets: { 'Brand-A': 6000, election: 4001.5, other: -1 } }, LIMITS);
    assert.deepEqual(
      problems.map((p) => p.where),
      ['budgets.Brand-A', 'budgets.election', 'budgets.other', 'budgets.other'],
    );
    assert.match(problems[0]!.message, /no rule has the tag "Brand-A" \(did you mean "brand-a"\?\)/);
    const over = rulesProblems({ rules, budgets: { 'brand-a': 8000, election: 4000 } }, LIMITS);
    assert.match(over[0]!.message, /sum to 12000 posts, over x\.monthlyCap \(10000\)/);
    assert.deepEqual(kinds({ rules, budgets: { 'brand-a': 8000, election: 4000 } }, { ...LIMITS, monthlyCap: 0 }), [], 'no cap, no sum limit');
    assert.deepEqual(kinds({ rules, budgets: [1] }), ['budget budgets']);
  });

  it('one error (CP_X_RULES) lists every problem; the online path leaves syntax to X', () => {
    const doc = { rules: [{ value: 'is:reply cats', tag: 'a' }, { value: 'dogs' }], budgets: { nope: 1 } };
    const r = checkRulesOffline(doc, 'rules file r.yaml', LIMITS);
    assert.equal(r.ok, false);
    const e = (r as { error: { code: string; message: string } }).error;
    assert.equal(e.code, 'CP_X_RULES');
    assert.match(
      e.message,
      /^rules file r\.yaml: 3 problems: \(1\) rules\.0 \(tag a\) "is:reply cats": .*; \(2\) rules\.1\.tag: missing.*; \(3\) budgets\.nope: no rule/,
    );
    assert.match(e.message, /asks X\)$/, 'says the offline syntax check is a subset');
    const online = checkRulesOffline({ rules: [{ value: 'is:reply cats', tag: 'a' }] }, 'f', LIMITS, { syntax: 'defer-to-x' });
    assert.ok(online.ok, 'a rule outside the offline subset goes to X');
    assert.equal(online.value.notes.length, 1);
  });
});

describe('crowdpulse rules validate [--offline]', () => {
  let emu: XEmulator;
  const dir = tempDir('rules-offline');
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bad.yaml');
  before(async () => {
    emu = await startEmulator({ initialRules: [{ value: 'bitcoin', tag: 'crypto' }] });
    writeFileSync(
      good,
      '# topics\nrules:\n  - {value: bitcoin, tag: crypto}\n  - {value: "#ai OR \\"machine learning\\"", tag: ai}\nbudgets: {crypto: 5000, ai: 4000}\n',
    );
    writeFileSync(
      bad,
      'rules:\n  - {value: "(bitcoin", tag: crypto}\n  - {value: weather, tag: weather}\n  - {value: weather, tag: other}\nbudgets: {crypto: 9000, nope: 2000}\n',
    );
  });
  after(async () => {
    await emu.close();
  });

  it('--offline: "N rules valid (offline)" without any token or API', async () => {
    const r = await crowdpulse(['rules', 'validate', '--offline', '-f', good], { CROWDPULSE_X_API_URL: 'http://127.0.0.1:9' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${good}: 2 rules valid (offline)\n`);
  });

  it('--offline: a non-zero exit and one CP_X_RULES line listing every problem', async () => {
    const r = await crowdpulse(['rules', 'validate', '--offline', '-f', bad], { CROWDPULSE_X_MAX_RULES: '2' });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /5 problems: \(1\) rules: 3 rules, over the limit of 2 \(x\.maxRules\); \(2\) rules\.0 \(tag crypto\) "\(bitcoin": Unbalanced parentheses.*\(3\) rules\.2 .*repeats the value of rules\.1.*\(4\) budgets\.nope: no rule has the tag "nope".*\(5\) budgets: the budgets sum to 11000 posts, over x\.monthlyCap \(10000\).*\(CP_X_RULES\)/,
    );
  });

  it('online: the offline checks run first (no API call for a bad file), then X validates with dry_run', async () => {
    const failed = await crowdpulse(['rules', 'validate', '-f', bad], { CROWDPULSE_X_API_URL: emu.url, CROWDPULSE_X_BEARER_TOKEN: TOKEN });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /3 problems: .*repeats the value.*budgets\.nope.*sum to 11000.*\(CP_X_RULES\)/, 'syntax is left to X online');
    const r = await crowdpulse(['rules', 'validate', '-f', good], { CROWDPULSE_X_API_URL: emu.url, CROWDPULSE_X_BEARER_TOKEN: TOKEN });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${good}: 2 rules valid (1 already live)\n`);
  });
});
