import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskTopicTerms, PLACEHOLDER, termOf, words } from '../../src/model/topic-mask.js';
import { nameOfTag, TopicTerms } from '../../src/model/topic-terms.js';
import { mulberry32 } from '../../src/model/prng.js';
import { termsOfRule, topicTermsOfRules } from '../../src/x/rule-terms.js';
import { firstDiff, hasData, needs, python, pythonReference, realPosts, syntheticPosts } from './support.js';

const mask = (text: string, ...written: string[]): string => maskTopicTerms(text, written.map(termOf));

test('topic mask v1: names in every form become the placeholder, other words stay', () => {
  assert.equal(PLACEHOLDER, 'this');
  assert.equal(mask('Just switched to Acme and honestly love it', 'acme'), 'Just switched to this and honestly love it');
  assert.equal(mask('#Acme #ACME @acme $acme ACME acme', 'Acme'), 'this this this this this this');
  assert.equal(mask("Acme's new phone", 'acme'), "this's new phone");
  // Inside a longer word, or a word that only starts with the name: not a match.
  assert.equal(mask('Acmeville and #AcmePhone and acme_fans', 'acme'), 'Acmeville and #AcmePhone and acme_fans');
  // A prefix with a word character before it stays (an e-mail address).
  assert.equal(mask('mail me@acme.com', 'acme'), 'mail me@this.com');
});

test('topic mask v1: phrases match across spaces and hyphens, and joined after #, @ or $', () => {
  assert.equal(mask('Manchester United won', 'Manchester United'), 'this won');
  assert.equal(
    mask('Manchester  \n United, Manchester-United, #ManchesterUnited, ManchesterUnited', 'Manchester United'),
    'this, this, this, ManchesterUnited',
  );
  // Punctuation between the words breaks a phrase.
  assert.equal(mask('Manchester. United', 'Manchester United'), 'Manchester. United');
  // The longest term wins at a word; the scan goes on after it.
  assert.equal(mask('rate decision day: rate up', 'rate', 'rate decision'), 'this day: this up');
  assert.equal(mask('nothing to see', 'acme'), 'nothing to see');
  assert.equal(mask('', 'acme'), '');
  assert.equal(maskTopicTerms('Acme', []), 'Acme');
});

test('topic mask v1: Unicode words, case and prefixes next to astral characters', () => {
  assert.equal(mask('Ich liebe MÜNCHEN und münchen', 'München'), 'Ich liebe this und this');
  assert.equal(mask('ΟΔΟΣ και οδος', 'οδος'), 'this και this');
  assert.equal(mask('東京 is great', '東京'), 'this is great');
  // An emoji (a surrogate pair) before the prefix is not a word character: the "#" goes with the name.
  assert.equal(mask('🎉#Acme', 'acme'), '🎉this');
  // A letter outside the BMP before the prefix is: the "#" stays.
  assert.equal(mask('𝐀#Acme', 'acme'), '𝐀#this');
  assert.deepEqual(
    words('a_b c-d 12').map((w) => w.lower),
    ['a_b', 'c', 'd', '12'],
  );
});

test('topic terms: from rules (keywords, phrases, #, @; not negated, not operators) and each tag’s own name', () => {
  assert.deepEqual(termsOfRule('Acme OR #AcmePhone OR @acme_support OR "rate decision" -spam lang:en -is:retweet (bond yield)'), [
    ['acme'],
    ['acmephone'],
    ['acme_support'],
    ['rate', 'decision'],
    ['bond'],
    ['yield'],
  ]);
  assert.deepEqual(termsOfRule('((('), []);
  const byTopic = topicTermsOfRules([
    { value: 'Acme OR #Acme', tag: 'brand:acme' },
    { value: '$ACME', tag: 'brand:acme' },
  ]);
  assert.deepEqual(byTopic.get('brand:acme'), [['acme'], ['acme'], ['acme']]);
  assert.deepEqual(nameOfTag('brand:acme'), ['acme']);
  assert.deepEqual(nameOfTag('election'), ['election']);
  const terms = new TopicTerms(new Map([['markets', [['stocks'], ['rate', 'decision']]]]));
  assert.equal(terms.apply('Stocks fell after the rate decision; markets calm', ['markets']), 'this fell after the this; this calm');
  // Only the post's own topics are masked.
  assert.equal(terms.apply('Stocks fell; Acme too', ['brand:acme']), 'Stocks fell; this too');
  assert.equal(terms.apply('Stocks fell; Acme too', ['markets', 'brand:acme']), 'this fell; this too');
});

/** Hand-written hard cases, then terms drawn from each post's own words (so most cases match something). */
function parityCases(texts: readonly string[]): [string, string[]][] {
  const random = mulberry32(17);
  const hard: [string, string[]][] = [
    ['İstanbul and istanbul and ISTANBUL', ['İstanbul']],
    ['Straße STRASSE strasse', ['straße']],
    ['#a#b @@x $$y', ['a', 'b', 'x', 'y']],
    ['x-y x - y x--y x_y', ['x y']],
    ['\u0301Acme e\u0301 Acme\u0301', ['acme', 'e']],
    ['𝐀#Acme 🎉#Acme ①#Acme', ['acme']],
    ['rate rate decision decision', ['rate decision', 'decision decision', 'rate']],
    ['#RateDecision #ratedecisionday @rate_decision', ['rate decision', 'rate_decision']],
  ];
  return [
    ...hard,
    ...texts.map((text): [string, string[]] => {
      const ws = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
      const at = (): string => ws[Math.floor(random() * ws.length)] ?? 'acme';
      const k = Math.floor(random() * ws.length);
      const terms = [at(), `#${at()}`, ws.slice(k, k + 2).join(' ') || 'acme', `$${at()}${at()}`];
      return [text, terms];
    }),
  ];
}

const py = python('');
test(
  'topic mask v1: TS equals Python (models/training/topic_mask.py) on hard cases, the synthetic posts and ≥ 2,000 real tweets',
  {
    skip:
      needs(py !== undefined, 'python3', 'install Python 3') ||
      needs(hasData(), '../shared/data', 'put the labelled data beside the repo or set CROWDPULSE_DATA'),
  },
  () => {
    const cases = parityCases([...syntheticPosts(), ...realPosts()]);
    assert.ok(cases.length >= 2000);
    const ref = pythonReference<string>(py!, ['topic-mask'], cases);
    const got = cases.map(([text, terms]) => maskTopicTerms(text, terms.map(termOf)));
    const changed = got.filter((g, i) => g !== cases[i]![0]).length;
    assert.ok(changed > cases.length / 2, `only ${changed} of ${cases.length} cases masked anything: the test would not see a difference`);
    const i = firstDiff(got, ref);
    assert.equal(i, -1, i >= 0 ? `case ${i} ${JSON.stringify(cases[i])}: TS ${JSON.stringify(got[i])} vs Python ${JSON.stringify(ref[i])}` : '');
  },
);
