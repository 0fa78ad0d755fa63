/**
 * The contract's fast paths (hand-written checks for the common message: the stream parser and the
 * decoders of posts and scored posts) must decide exactly as the schemas do: same value when
 * accepted, same code and reason when refused. Compared on the hostile corpus and on every field of
 * a valid message replaced by values of other types and edge values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postFromStreamLine, validatePost, validateScoredPost } from '../../src/contract/index.js';
import { hostileCorpus } from '../fixtures/hostile-corpus.js';

const NOW = Date.parse('2026-11-03T07:00:00.000Z');

function assertSameDecision(line: string, what: string): void {
  const fast = postFromStreamLine(line, NOW, true);
  const schema = postFromStreamLine(line, NOW, false);
  assert.deepEqual(fast, schema, `${what}: fast path and schema disagree on ${line.slice(0, 200)}`);
}

test('fast path and schema decide alike on every line of the hostile corpus', () => {
  const lines = hostileCorpus();
  for (const l of lines) assertSameDecision(l.bytes.toString('utf8'), l.name);
});

const ODD_VALUES: readonly unknown[] = [
  undefined,
  null,
  0,
  42,
  -1,
  1.5,
  true,
  '',
  ' ',
  '0',
  '042',
  '9223372036854775807',
  '9223372036854775808',
  '12345678901234567890',
  'abc',
  '１２３',
  '2026-11-03T06:00:00Z',
  '2026-11-03T06:00:00.004Z',
  '2026-11-03T06:00:00.123456+02:00',
  '2026-02-30T06:00:00.000Z',
  '2026-11-03T24:00:00.000Z',
  '2026-11-03 06:00:00',
  '2026-11-03',
  'x'.repeat(36),
  'pt-BR',
  [],
  [{}],
  [{ id: '1' }],
  [{ id: 1, tag: 'a' }],
  [{ id: '1', tag: 7 }],
  [{ type: 'retweeted', id: '5' }],
  [{ type: 'quoted' }],
  {},
  { id: '1' },
];

test('fast path and schema decide alike when any field holds another type or an edge value', () => {
  const base = {
    data: { id: '2117496997295423493', text: 'Acme support is great', created_at: '2026-11-03T06:00:00.004Z', lang: 'en', author_id: '224579' },
    matching_rules: [{ id: '1790000000000000000', tag: 'brand:acme' }],
  };
  const dataFields = ['id', 'text', 'created_at', 'lang', 'author_id', 'referenced_tweets', 'note_tweet', 'unknown_field'];
  let compared = 0;
  for (const field of dataFields) {
    for (const value of ODD_VALUES) {
      const data: Record<string, unknown> = { ...base.data, [field]: value };
      if (value === undefined) delete data[field];
      assertSameDecision(JSON.stringify({ ...base, data }), `data.${field} = ${JSON.stringify(value)}`);
      compared++;
    }
  }
  for (const value of ODD_VALUES) {
    assertSameDecision(JSON.stringify({ ...base, matching_rules: value }), `matching_rules = ${JSON.stringify(value)}`);
    assertSameDecision(JSON.stringify({ ...base, data: value }), `data = ${JSON.stringify(value)}`);
    assertSameDecision(JSON.stringify(value ?? null), `message = ${JSON.stringify(value)}`);
    compared += 3;
  }
  assert.ok(compared > 250, `compared ${compared} messages`);
});

const ODD_NUMBERS: readonly unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0.5,
  -0.5,
  -0.05,
  1,
  -1,
  1.0000001,
  -1.0000001,
  1.05,
  2 ** 53,
  2 ** 53 - 1,
  -(2 ** 53),
  1e300,
  '1',
  null,
];

function assertSameValidation(validate: (v: unknown, fast: boolean) => unknown, value: unknown, what: string): void {
  assert.deepEqual(validate(value, true), validate(value, false), `${what}: fast path and schema disagree`);
}

function mutations(base: Record<string, unknown>): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [
    ['as is', base],
    ['with an extra field', { ...base, extra: 'x' }],
  ];
  for (const field of Object.keys(base)) {
    for (const value of [...ODD_VALUES, ...ODD_NUMBERS]) {
      const changed: Record<string, unknown> = { ...base, [field]: value };
      if (value === undefined) delete changed[field];
      out.push([`${field} = ${String(value)}`, changed]);
    }
  }
  return out;
}

test('decoded posts: fast path and schema decide alike for every field holding another type or an edge value', () => {
  const base = {
    id: '2117496997295423493',
    text: 'Acme support is great',
    createdAt: '2026-11-03T06:00:00.004Z',
    lang: 'en',
    topics: ['brand:acme'],
    ingestedAt: NOW,
  };
  const cases = mutations(base);
  for (const [what, value] of cases) assertSameValidation(validatePost, value, `post ${what}`);
  assert.ok(cases.length > 250);
});

test('decoded scored posts: fast path and schema decide alike for every field and probability holding another type or an edge value', () => {
  const probs = { neg: 0.1, neu: 0.2, pos: 0.7 };
  const base = {
    id: '2117496997295423493',
    createdAt: '2026-11-03T06:00:00.004Z',
    topics: ['brand:acme', 'markets'],
    lang: 'en',
    label: 'positive',
    probs,
    score: 0.6,
    model: 'crowdpulse-fast-v2',
    flags: [],
    ingestedAt: NOW,
    analyzedAt: NOW + 5,
  };
  const cases = mutations(base);
  for (const [what, value] of cases) assertSameValidation(validateScoredPost, value, `scored post ${what}`);
  for (const [what, changed] of mutations(probs)) assertSameValidation(validateScoredPost, { ...base, probs: changed }, `probs ${what}`);
  assert.ok(cases.length > 400);
});
