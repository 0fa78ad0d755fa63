/**
 * #17.1/#17.3: name invariance and negation (models/eval/invariance, held out from any training).
 *
 * The measures are pinned on made-up outcomes; the suite has the promised size and shape; and the
 * seeded CI subset (6 templates × 12 names in every form, plus all 46 negation items) runs through
 * `crowdpulse eval --invariance` with both tiers. Its thresholds are a REGRESSION GUARD, not a
 * goal: they are the numbers measured on 2026-12-06 with the committed models (crowdpulse-fast-v2,
 * crowdpulse-accurate-v1) plus a stated margin, so a model or a change to scoring that makes the
 * name move the score more, or gets more negations wrong, fails here. Lower them when a better
 * model ships. The same subset scored as served (topic-fair scoring, the name masked) must meet
 * #17's goals: accurate ≤ 1 % label flips and mean spread ≤ 0.10, fast ≤ 2 % and ≤ 0.15.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Label } from '../../src/contract/index.js';
import {
  ciSubset,
  expand,
  FORMS,
  invariance,
  loadSuite,
  negationResult,
  summarise,
  surface,
  type InvarianceReport,
  type Outcome,
  type Suite,
} from '../../src/model/invariance.js';
import { ROOT } from '../helpers.js';

/**
 * Measured on the CI subset (`crowdpulse eval --invariance --subset ci --json`): fast 2026-12-06;
 * accurate 2026-12-07, after its batches became token-planned calls (was 2 / 6, 2 / 240, 0.494, 36 / 46).
 */
const MEASURED: Record<string, { flipRate: number; pairFlipRate: number; meanSpread: number; negation: number }> = {
  'crowdpulse-fast-v2': { flipRate: 2 / 6, pairFlipRate: 5 / 240, meanSpread: 0.36, negation: 19 / 46 },
  'crowdpulse-accurate-v1': { flipRate: 1 / 6, pairFlipRate: 1 / 240, meanSpread: 0.388, negation: 37 / 46 },
};
/**
 * Margins: one more flipped template of six; 2 points more off-majority posts (5 of 240); mean
 * spread +0.05 (the accurate tier's scores move by up to ~0.01 with their batch companions: its
 * @handle posts, identical after normalisation, spread 0.008 on average); two more negation items wrong.
 */
const MARGIN = { flipRate: 1 / 6, pairFlipRate: 0.02, meanSpread: 0.05, negation: 2 / 46 };
/** #17's goals for the scores as served. */
const GOAL: Record<string, { flipRate: number; meanSpread: number }> = {
  'crowdpulse-fast-v2': { flipRate: 0.02, meanSpread: 0.15 },
  'crowdpulse-accurate-v1': { flipRate: 0.01, meanSpread: 0.1 },
};

const o = (label: Label, score: number): Outcome => ({ label, score });

test('the measures: flips per template, off-majority posts, spread, per form and kind, negation accuracy', () => {
  const suite: Suite = {
    dir: '',
    subset: 'full',
    templates: [
      { id: 't1', label: 'positive', text: 'love {name}' },
      { id: 't2', label: 'neutral', text: 'about {name}' },
    ],
    names: [
      { name: 'A', kind: 'brand', hashtag: 'A', handle: 'a', cashtag: 'AA' },
      { name: 'B', kind: 'place', hashtag: 'B', handle: 'b' },
    ],
    negation: [
      { id: 'n1', kind: 'negated', expected: 'negative', text: 'not good' },
      { id: 'n2', kind: 'negated', expected: 'positive', text: 'not bad' },
      { id: 'n3', kind: 'contrast', expected: 'negative', text: 'nice but broken' },
    ],
    ci: { seed: 1, templatesPerLabel: 1, namesPerKind: 1 },
  };
  const variants = expand(suite);
  // Per template: A plain, A #, A @, A $, B plain, B #, B @ (no cashtag for a place).
  assert.deepEqual(
    variants.map((v) => v.text),
    [
      'love A',
      'love #A',
      'love @a',
      'love $AA',
      'love B',
      'love #B',
      'love @b',
      'about A',
      'about #A',
      'about @a',
      'about $AA',
      'about B',
      'about #B',
      'about @b',
    ],
  );
  const outcomes = [
    // t1: every post positive; spread 0.9 − 0.5 = 0.4.
    ...[0.9, 0.8, 0.7, 0.9, 0.5, 0.6, 0.7].map((s) => o('positive', s)),
    // t2: B plain is negative (one of seven off the neutral majority); spread 0.1 − (−0.7) = 0.8.
    o('neutral', 0),
    o('neutral', 0.1),
    o('neutral', 0),
    o('neutral', 0),
    o('negative', -0.7),
    o('neutral', 0),
    o('neutral', 0),
  ];
  const r = summarise('m', suite, variants, outcomes, [o('negative', -0.5), o('negative', -0.4), o('negative', -0.2)]);
  assert.equal(r.posts, 14);
  const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;
  assert.deepEqual([r.overall.groups, r.overall.flipRate, r.overall.pairFlipRate], [2, 0.5, 1 / 14]);
  assert.ok(close(r.overall.meanSpread, 0.6) && close(r.overall.maxSpread, 0.8), JSON.stringify(r.overall));
  assert.equal(r.templateAgreement, 13 / 14);
  // plain: t1 {0.9, 0.5} spread 0.4; t2 {0, −0.7} flipped, spread 0.7.
  assert.equal(r.byForm.plain!.flipRate, 0.5);
  assert.ok(close(r.byForm.plain!.meanSpread, 0.55));
  // cashtag: one post per template, no group says anything.
  assert.equal(r.byForm.cashtag!.groups, 0);
  assert.equal(r.byKind.brand!.flipRate, 0);
  assert.equal(r.byKind.place!.flipRate, 0.5);
  assert.equal(r.worst[0]!.id, 't2');
  assert.equal(r.worst[0]!.lowest.text, 'about B');
  assert.equal(r.worst[0]!.highest.text, 'about #A');
  assert.equal(r.negation.accuracy, 2 / 3);
  assert.deepEqual(r.negation.byKind.negated, { n: 2, correct: 1, accuracy: 0.5 });
  assert.deepEqual(
    r.negation.failures.map((f) => f.id),
    ['n2'],
  );
  // A tie is broken toward the earlier label, and a one-post group is left out.
  assert.equal(invariance([[{ variant: variants[0]!, outcome: o('neutral', 0) }]]).groups, 0);
  assert.equal(negationResult([], []).accuracy, 0);
});

test('the suite: ≥ 30 templates of each label, ≥ 40 names of ≥ 5 kinds, cashtags for brands and coins only, ≥ 40 negation items; the CI subset is seeded', () => {
  const suite = loadSuite();
  assert.ok(suite.templates.length >= 30, `${suite.templates.length} templates`);
  for (const l of ['negative', 'neutral', 'positive']) assert.ok(suite.templates.filter((t) => t.label === l).length >= 10, l);
  assert.ok(suite.names.length >= 40);
  const kinds = new Set(suite.names.map((n) => n.kind));
  assert.ok(kinds.size >= 5, [...kinds].join());
  for (const n of suite.names) assert.equal(n.cashtag !== undefined, n.kind === 'brand' || n.kind === 'coin', n.name);
  assert.ok(suite.negation.length >= 40);
  assert.equal(new Set(suite.templates.map((t) => t.id)).size, suite.templates.length);
  assert.equal(new Set(suite.negation.map((t) => t.id)).size, suite.negation.length);
  assert.equal(surface(suite.names[0]!, 'hashtag')!.startsWith('#'), true);
  assert.deepEqual([...FORMS], ['plain', 'hashtag', 'handle', 'cashtag']);

  const ci = ciSubset(suite);
  assert.equal(ci.subset, 'ci');
  assert.equal(ci.templates.length, 6);
  for (const l of ['negative', 'neutral', 'positive']) assert.equal(ci.templates.filter((t) => t.label === l).length, 2);
  assert.equal(ci.names.length, 2 * kinds.size);
  assert.deepEqual(ciSubset(suite), ci);
  assert.notDeepEqual(
    ciSubset({ ...suite, ci: { ...suite.ci, seed: suite.ci.seed + 1 } }).names.map((n) => n.name),
    ci.names.map((n) => n.name),
  );
  assert.equal(ci.negation.length, suite.negation.length);
});

test('the CI subset through both tiers: no worse than measured on 2026-12-06 by more than the stated margin (regression guard)', { timeout: 240_000 }, () => {
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/crowdpulse.js'), 'eval', '--invariance', '--subset', 'ci', '--tiers', 'fast,accurate', '--threads', '1', '--json'],
    { encoding: 'utf8', timeout: 200_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  const reports = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as InvarianceReport[];
  assert.deepEqual(
    reports.map((r) => [r.model, r.topicFair]),
    Object.keys(MEASURED).flatMap((model) => [
      [model, false],
      [model, true],
    ]),
  );
  const problems: string[] = [];
  for (const r of reports.filter((x) => x.topicFair)) {
    const goal = GOAL[r.model]!;
    const summary = `${r.model} as served: flips ${r.overall.flipRate.toFixed(3)}, spread ${r.overall.meanSpread.toFixed(3)}, agreement ${r.templateAgreement.toFixed(3)}`;
    console.log(summary);
    assert.equal(r.posts, 240);
    if (r.overall.flipRate > goal.flipRate) problems.push(`${summary}: flip rate above the goal ${goal.flipRate}`);
    if (r.overall.meanSpread > goal.meanSpread) problems.push(`${summary}: mean spread above the goal ${goal.meanSpread}`);
  }
  for (const r of reports.filter((x) => !x.topicFair)) {
    const m = MEASURED[r.model]!;
    assert.equal(r.subset, 'ci');
    assert.equal(r.posts, 240);
    const summary = `${r.model}: flips ${r.overall.flipRate.toFixed(3)}, off-majority ${r.overall.pairFlipRate.toFixed(4)}, spread ${r.overall.meanSpread.toFixed(3)}, negation ${r.negation.accuracy.toFixed(3)}`;
    console.log(summary);
    if (r.overall.flipRate > m.flipRate + MARGIN.flipRate + 1e-9)
      problems.push(`${summary}: flip rate above ${m.flipRate.toFixed(3)} + ${MARGIN.flipRate.toFixed(3)}`);
    if (r.overall.pairFlipRate > m.pairFlipRate + MARGIN.pairFlipRate + 1e-9)
      problems.push(`${summary}: off-majority share above ${m.pairFlipRate.toFixed(4)} + ${MARGIN.pairFlipRate}`);
    if (r.overall.meanSpread > m.meanSpread + MARGIN.meanSpread) problems.push(`${summary}: mean spread above ${m.meanSpread} + ${MARGIN.meanSpread}`);
    if (r.negation.accuracy < m.negation - MARGIN.negation - 1e-9)
      problems.push(`${summary}: negation/contrast accuracy below ${m.negation.toFixed(3)} − ${MARGIN.negation.toFixed(3)}`);
    // The fast tier's bag of n-grams sees "@user" for every handle, whatever its batch: no spread at all.
    if (r.model === 'crowdpulse-fast-v2') assert.equal(r.byForm.handle!.meanSpread, 0);
  }
  assert.deepEqual(problems, []);

  const text = spawnSync(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'eval', '--invariance', '--subset', 'ci', '--tiers', 'fast', '--threads', '1'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(text.status, 0, text.stderr);
  for (const part of ['the model alone', 'as served', 'label flips', 'score spread', 'by form', 'by kind', 'worst templates', 'negation and contrast'])
    assert.match(text.stdout, new RegExp(part));
});
