import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalize } from '../../src/model/normalize.js';
import { WordPiece } from '../../src/model/wordpiece.js';
import { ROOT } from '../helpers.js';
import { firstDiff, fixture, hasData, needs, python, pythonReference, realPosts, syntheticPosts } from './support.js';

const DIR = join(ROOT, 'models/accurate');
const { maxLength, ids: expected } = fixture<{ maxLength: number; ids: number[][] }>('wordpiece-expected.json');
const wordpiece = (max = maxLength): WordPiece => new WordPiece(join(DIR, 'tokenizer.json'), join(DIR, 'tokenizer_config.json'), max);

test('wordpiece: TS ids equal the committed reference ids (Python tokenizers) on the synthetic posts', () => {
  const wp = wordpiece();
  const got = syntheticPosts().map((p) => wp.ids(normalize(p)));
  const i = firstDiff(got, expected);
  assert.equal(i, -1, i >= 0 ? `post ${i}: TS ${got[i]!.join(',')} vs reference ${expected[i]!.join(',')}` : '');
});

test('wordpiece: [CLS] … [SEP], truncated to maxLength with [SEP] kept', () => {
  const wp = wordpiece(8);
  const ids = wp.ids('one two three four five six seven eight nine ten');
  assert.equal(ids.length, 8);
  assert.equal(ids[0], 101);
  assert.equal(ids[7], 102);
  assert.deepEqual(wp.ids(''), [101, 102]);
});

const py = python('tokenizers');
test(
  'wordpiece: TS ids equal Python tokenizers (run now) on ≥ 2,000 real tweets',
  {
    skip:
      needs(py !== undefined, 'Python with `tokenizers`', 'run bash models/training/setup-parity-venv.sh') ||
      needs(hasData(), '../shared/data', 'put the labelled data beside the repo or set CROWDPULSE_DATA'),
  },
  () => {
    const texts = realPosts();
    assert.ok(texts.length >= 2000);
    const ref = pythonReference<number[]>(py!, ['wordpiece', join(DIR, 'tokenizer.json'), String(maxLength)], texts);
    const wp = wordpiece();
    const got = texts.map((t) => wp.ids(normalize(t)));
    const i = firstDiff(got, ref);
    assert.equal(i, -1, i >= 0 ? `text ${i} ${JSON.stringify(texts[i])}: TS ${got[i]!.join(',')} vs Python ${ref[i]!.join(',')}` : '');
  },
);
