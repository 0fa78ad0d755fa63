import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LABELS } from '../../src/contract/index.js';
import { detectFormat, parseCsv, readLabelled, vaderRatingToLabel } from '../../src/model/datasets.js';
import { MODEL_LABELS } from '../../src/model/manifest.js';
import { argmax3, score } from '../../src/model/accuracy.js';
import { tempDir } from '../helpers.js';

test('label order: the model manifest labels are the contract labels (negative, neutral, positive)', () => {
  assert.deepEqual([...MODEL_LABELS], [...LABELS]);
});

test('label mapping: TweetEval 0/1/2 with the labels file beside the text file', () => {
  const dir = tempDir('tweeteval');
  writeFileSync(join(dir, 'x_text.txt'), 'bad\nmeh\ngood\n');
  writeFileSync(join(dir, 'x_labels.txt'), '0\n1\n2\n');
  const set = readLabelled(join(dir, 'x_text.txt'));
  assert.equal(set.format, 'tweeteval');
  assert.deepEqual(set.labels, [0, 1, 2]);
  writeFileSync(join(dir, 'y_text.txt'), 'a\n');
  writeFileSync(join(dir, 'y_labels.txt'), '3\n');
  assert.throws(() => readLabelled(join(dir, 'y_text.txt')), /y_labels\.txt:1: label "3"/);
});

test('label mapping: sentiment140 0/2/4, sanders words with irrelevant dropped, airline words, VADER ratings ±0.5', () => {
  const dir = tempDir('evalonly');
  const s140 = join(dir, 'testdata.manual.x.csv');
  writeFileSync(s140, '4,"good, really"\n0,bad\n2,"say ""hi"""\n');
  const a = readLabelled(s140);
  assert.deepEqual(a.labels, [2, 0, 1]);
  assert.deepEqual(a.texts, ['good, really', 'bad', 'say "hi"']);
  const sanders = join(dir, 'full-corpus.csv');
  writeFileSync(
    sanders,
    '"Topic","Sentiment","TweetId","TweetDate","TweetText"\n"x","irrelevant","1","d","t1"\n"x","negative","2","d","t2"\n"x","positive","3","d","t3"\n',
  );
  const b = readLabelled(sanders);
  assert.deepEqual(b.labels, [0, 2]);
  assert.equal(b.dropped, 1);
  const airline = join(dir, 'Tweets.csv');
  writeFileSync(airline, 'tweet_id,airline_sentiment,text\n1,neutral,"multi\nline"\n2,negative,late\n');
  const c = readLabelled(airline);
  assert.deepEqual(c.labels, [1, 0]);
  assert.equal(c.texts[0], 'multi\nline');
  assert.deepEqual([-2, -0.6, -0.5, 0, 0.5, 0.51, 3].map(vaderRatingToLabel), [0, 0, 1, 1, 1, 2, 2]);
  assert.equal(detectFormat('/x/tweets_GroundTruth.txt'), 'vader-tweets');
  assert.throws(() => detectFormat('/x/unknown.txt'), /--format/);
  assert.deepEqual(parseCsv('a,b\r\n"c\r\nd",e\r\n'), [
    ['a', 'b'],
    ['c\r\nd', 'e'],
  ]);
});

test('metrics: macro-recall, accuracy, confusion, argmax', () => {
  const s = score([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]);
  assert.deepEqual(s.confusion, [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
  assert.deepEqual(s.recall, [0.5, 1, 0.5]);
  assert.equal(s.macroRecall, 2 / 3);
  assert.equal(s.accuracy, 4 / 6);
  assert.throws(() => score([0], [3]), /out of range/);
  assert.equal(argmax3([0.2, 0.5, 0.3]), 1);
  assert.equal(argmax3([0.1, 0.1, 0.8, 0.9, 0.05, 0.05], 3), 0);
});
