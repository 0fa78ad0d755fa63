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

test("hashed-ngrams encoder: flat feeds — every post's ids in turn, their rows, and counts", () => {
  const enc = new HashedNgramsEncoder(buckets, 1024);
  const f = new HashedNgrams(buckets, 1024);
  const texts = ['good', '', 'a much longer post about nothing much'];
  const feeds = enc.encode(texts);
  const ids = feeds.feature_ids!;
  const rows = feeds.feature_rows!;
  const counts = feeds.feature_counts!;
  assert.equal(ids.type, 'int32');
  assert.equal(rows.type, 'int64');
  assert.equal(counts.type, 'float32');
  const want = texts.map((t) => f.features(normalize(t)));
  assert.deepEqual(Array.from(ids.data as Int32Array), want.flat());
  assert.deepEqual(rows.dims, [want.flat().length, 1]);
  assert.deepEqual(
    Array.from(rows.data as BigInt64Array, Number),
    want.flatMap((w, i) => w.map(() => i)),
  );
  assert.deepEqual(counts.dims, [3, 1]);
  assert.deepEqual(
    Array.from(counts.data as Float32Array),
    want.map((w) => w.length),
  );
});

test('hashed-ngrams encoder: a batch with no features at all still has one (the zero row) and counts 0', () => {
  const feeds = new HashedNgramsEncoder(buckets, 1024).encode(['', ' ']);
  assert.deepEqual(Array.from(feeds.feature_ids!.data as Int32Array), [0]);
  assert.deepEqual(Array.from(feeds.feature_counts!.data as Float32Array), [0, 0]);
});

const py = python('');
test(
  'hashed-ngrams v1: TS equals Python (run now) on ≥ 2,000 real tweets',
  {
    skip:
      needs(py !== undefined, 'python3', 'install Python 3') ||
      needs(hasData(), '../shared/data', 'put the labelled data beside the repo or set CROWDPULSE_DATA'),
  },
  () => {
    const texts = realPosts();
    const ref = pythonReference<number[]>(py!, ['features', String(buckets)], texts);
    const f = new HashedNgrams(buckets, 1024);
    const got = texts.map((t) => f.features(normalize(t)));
    const i = firstDiff(got, ref);
    assert.equal(i, -1, i >= 0 ? `text ${i} ${JSON.stringify(texts[i])} differs` : '');
  },
);
