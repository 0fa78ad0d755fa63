import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashedNgramsEncoder } from '../../src/model/encoder.js';
import { HashedNgrams } from '../../src/model/hashed-ngrams.js';
import { normalize } from '../../src/model/normalize.js';
import { firstDiff, fixture, hasData, needs, python, pythonReference, realPosts, syntheticPosts } from './support.js';

const { buckets, ids: expected } = fixture<{ buckets: number; ids: number[][] }>('features-expected.json');

test('hashed-ngrams v1: TS ids equal the committed Python ids on the synthetic posts', () => {
  const f = new HashedNgrams(buckets, 1024);
  const got = syntheticPosts().map((p) => f.features(normalize(p)));
  const i = firstDiff(got, expected);
  assert.equal(i, -1, i >= 0 ? `post ${i}: first ids TS ${got[i]!.slice(0, 8).join(',')} vs Python ${expected[i]!.slice(0, 8).join(',')}` : '');
});

test('hashed-ngrams v1: ids are in 1..buckets, capped at maxFeatures, deterministic', () => {
  const f = new HashedNgrams(1024, 16);
  const a = f.features('a fairly long sentence with many words in it');
  assert.equal(a.length, 16);
  assert.ok(a.every((x) => x >= 1 && x <= 1024));
  assert.deepEqual(f.features('a fairly long sentence with many words in it'), a);
  assert.deepEqual(f.features(''), []);
  assert.throws(() => new HashedNgrams(1000, 16), /power of two/);
});

test('hashed-ngrams encoder: a batch is padded with 0 to its longest row, int32 [batch, n]', () => {
  const enc = new HashedNgramsEncoder(buckets, 1024);
  const feeds = enc.encode(['good', 'a much longer post about nothing much', '']);
  const t = feeds.feature_ids!;
  assert.equal(t.type, 'int32');
  const [b, n] = t.dims as [number, number];
  assert.equal(b, 3);
  const data = t.data as Int32Array;
  const row = (r: number): number[] => Array.from(data.subarray(r * n, (r + 1) * n));
  assert.deepEqual(row(0).filter((x) => x > 0), new HashedNgrams(buckets, 1024).features('good'));
  assert.ok(row(1).every((x) => x > 0), 'the longest row has no padding');
  assert.ok(row(2).every((x) => x === 0), 'an empty post is all padding');
});

const py = python('');
test('hashed-ngrams v1: TS equals Python (run now) on ≥ 2,000 real tweets', {
  skip: needs(py !== undefined, 'python3', 'install Python 3') || needs(hasData(), '../shared/data', 'put the labelled data beside the repo or set CROWDPULSE_DATA'),
}, () => {
  const texts = realPosts();
  const ref = pythonReference<number[]>(py!, ['features', String(buckets)], texts);
  const f = new HashedNgrams(buckets, 1024);
  const got = texts.map((t) => f.features(normalize(t)));
  const i = firstDiff(got, ref);
  assert.equal(i, -1, i >= 0 ? `text ${i} ${JSON.stringify(texts[i])} differs` : '');
});
