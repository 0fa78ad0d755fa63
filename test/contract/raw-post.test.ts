import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postFromStreamBytes, postFromStreamLine, topicsOf, UNTAGGED_TOPIC, validateScoredPost, labelOf, scoreOf } from '../../src/contract/index.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const msg = (data: Record<string, unknown>, extra: Record<string, unknown> = {}): string => JSON.stringify({ data, ...extra });

test('a valid stream message becomes a Post with topics from matching_rules tags', () => {
  const r = postFromStreamLine(
    msg(
      { id: '123', text: 'hello', created_at: '2026-11-03T06:00:00.000Z', lang: 'en' },
      {
        matching_rules: [
          { id: '9', tag: 'markets' },
          { id: '10', tag: 'crypto' },
          { id: '11', tag: 'markets' },
        ],
      },
    ),
    NOW,
  );
  assert.ok(r.ok);
  assert.deepEqual(r.value.topics, ['markets', 'crypto']);
  assert.equal(r.value.createdAt, '2026-11-03T06:00:00.000Z');
  assert.equal(r.value.ingestedAt, NOW);
});

test('three matching rules give three topics; an untagged rule counts as rule:<id>', () => {
  assert.deepEqual(
    topicsOf([
      { id: '1', tag: 'a' },
      { id: '2', tag: 'b' },
      { id: '3', tag: 'c' },
    ]),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(topicsOf([{ id: '7' }]), ['rule:7']);
});

test('no matching_rules: the post is kept under the untagged topic, not dropped', () => {
  const r = postFromStreamLine(msg({ id: '5', text: 'x' }), NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.value.topics, [UNTAGGED_TOPIC]);
  assert.equal(r.value.lang, 'und');
  assert.equal(r.value.createdAt, new Date(NOW).toISOString());
});

test('malformed JSON is rejected with invalid_json', () => {
  const r = postFromStreamLine('{"data": {"id": "1", "text": "unterminated', NOW);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'invalid_json');
});

test('missing data.id or data.text is rejected with the path in the reason', () => {
  const noId = postFromStreamLine(msg({ text: 'x' }), NOW);
  assert.ok(!noId.ok);
  assert.equal(noId.error.code, 'invalid_shape');
  assert.match(noId.error.reason, /data\.id/);
  const noText = postFromStreamLine(msg({ id: '1' }), NOW);
  assert.ok(!noText.ok);
  assert.match(noText.error.reason, /data\.text/);
});

test('empty (or blank) text is rejected with empty_text', () => {
  for (const text of ['', '   ']) {
    const r = postFromStreamLine(msg({ id: '1', text }), NOW);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'empty_text');
  }
});

test('a 10,000-character text is accepted whole', () => {
  const text = 'a'.repeat(10_000);
  const r = postFromStreamLine(msg({ id: '1', text }), NOW);
  assert.ok(r.ok);
  assert.equal(r.value.text.length, 10_000);
});

test('invalid UTF-8 bytes are rejected, not replaced', () => {
  const bytes = Buffer.concat([Buffer.from('{"data":{"id":"1","text":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
  const r = postFromStreamBytes(bytes, NOW);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'invalid_utf8');
});

test('unknown extra fields are allowed', () => {
  const r = postFromStreamLine(msg({ id: '1', text: 'x', future: { a: 1 } }, { also_new: true }), NOW);
  assert.ok(r.ok);
});

test('a non-numeric id and a non-object message are rejected', () => {
  assert.equal((postFromStreamLine(msg({ id: 'abc', text: 'x' }), NOW) as { ok: false; error: { code: string } }).error.code, 'invalid_shape');
  assert.equal((postFromStreamLine('[1,2]', NOW) as { ok: false; error: { code: string } }).error.code, 'invalid_shape');
});

test('an in-stream error payload is recognised as such', () => {
  const r = postFromStreamLine(JSON.stringify({ errors: [{ title: 'operational-disconnect' }] }), NOW);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'stream_error_payload');
  assert.match(r.error.reason, /operational-disconnect/);
});

test('label and score follow the probabilities', () => {
  assert.equal(labelOf({ neg: 0.7, neu: 0.2, pos: 0.1 }), 'negative');
  assert.equal(labelOf({ neg: 0.1, neu: 0.2, pos: 0.7 }), 'positive');
  assert.equal(labelOf({ neg: 0.2, neu: 0.6, pos: 0.2 }), 'neutral');
  assert.ok(Math.abs(scoreOf({ neg: 0.1, neu: 0.2, pos: 0.7 }) - 0.6) < 1e-9);
});

test('a scored post outside the contract is refused', () => {
  const good = {
    id: '1',
    createdAt: '2026-11-03T06:00:00.000Z',
    topics: ['a'],
    lang: 'en',
    label: 'positive',
    probs: { neg: 0, neu: 0, pos: 1 },
    score: 1,
    model: 'm',
    flags: [],
    ingestedAt: Date.UTC(2026, 10, 3, 6, 0, 1),
    analyzedAt: Date.UTC(2026, 10, 3, 6, 0, 2),
  };
  assert.ok(validateScoredPost(good).ok);
  assert.ok(!validateScoredPost({ ...good, score: 2 }).ok);
  assert.ok(!validateScoredPost({ ...good, label: 'meh' }).ok);
  assert.ok(!validateScoredPost({ ...good, topics: [] }).ok);
});

test('#14.3 a long post is scored on its full note_tweet text, not the truncated text', () => {
  const full = `${'Long thread about the launch, '.repeat(12)}and in the end it was great.`;
  const r = postFromStreamLine(msg({ id: '7', text: `${[...full].slice(0, 280).join('')}…`, note_tweet: { text: full } }), NOW);
  assert.ok(r.ok);
  assert.equal(r.value.text, full);
  const blank = postFromStreamLine(msg({ id: '8', text: 'short', note_tweet: { text: '  ' } }), NOW);
  assert.ok(blank.ok);
  assert.equal(blank.value.text, 'short', 'a blank note_tweet does not replace the text');
  assert.equal(postFromStreamLine(msg({ id: '9', text: ' ', note_tweet: { text: ' ' } }), NOW).ok, false);
  const odd = postFromStreamLine(msg({ id: '10', text: 'short', note_tweet: { text: 5 } }), NOW);
  assert.equal(odd.ok, false, 'a note_tweet without a string text is refused with its path');
});
