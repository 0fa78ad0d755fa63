import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalize } from '../../src/model/normalize.js';
import { firstDiff, fixture, hasData, needs, python, pythonReference, realPosts, syntheticPosts } from './support.js';

test('normalize v1: URLs, mentions, hashtags, entities, emoji, whitespace', () => {
  assert.equal(normalize('@Bob_1 see https://t.co/xyz and WWW.example.com #Winning'), '@user see http and http Winning');
  assert.equal(normalize('me@example.com stays'), 'me@example.com stays');
  assert.equal(normalize('fish &amp; chips &amp;lt;'), 'fish & chips &lt;');
  assert.equal(normalize('so funny 😂😂 😂!'), 'so funny face with tears of joy !');
  assert.equal(normalize('👍🏽 ok'), 'thumbs up sign ok');
  assert.equal(normalize('🇫🇷'), 'flag');
  assert.equal(normalize(' \t a\u00a0 b\n'), 'a b');
  assert.equal(normalize(''), '');
});

test('normalize v1: TS output equals the committed Python output on the synthetic posts', () => {
  const posts = syntheticPosts();
  const expected = fixture<string[]>('normalize-expected.json');
  assert.equal(expected.length, posts.length);
  const got = posts.map(normalize);
  const i = firstDiff(got, expected);
  assert.equal(i, -1, i >= 0 ? `post ${i} ${JSON.stringify(posts[i])}: TS ${JSON.stringify(got[i])} vs Python ${JSON.stringify(expected[i])}` : '');
});

const py = python('');
test(
  'normalize v1: TS equals Python (run now) on the synthetic posts and ≥ 2,000 real tweets',
  {
    skip:
      needs(py !== undefined, 'python3', 'install Python 3') ||
      needs(hasData(), '../shared/data', 'put the labelled data beside the repo or set CROWDPULSE_DATA'),
  },
  () => {
    const texts = [...syntheticPosts(), ...realPosts()];
    assert.ok(texts.length >= 2000);
    const ref = pythonReference<string>(py!, ['normalize'], texts);
    const got = texts.map(normalize);
    const i = firstDiff(got, ref);
    assert.equal(i, -1, i >= 0 ? `text ${i} ${JSON.stringify(texts[i])}: TS ${JSON.stringify(got[i])} vs Python ${JSON.stringify(ref[i])}` : '');
  },
);
