import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalPostId, canonicalTopic, CONTRACT_LIMITS, postFromStreamLine, validatePost, validateScoredPost } from '../../src/contract/index.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const line = (data: Record<string, unknown>, tags: string[] = ['markets']): string =>
  JSON.stringify({ data: { text: 'hello', ...data }, matching_rules: tags.map((tag, i) => ({ id: String(i + 1), tag })) });

test('#11.4 created_at in the year 9999, 0 or before 2006 is refused by ingest with created_at_out_of_range, and analyze agrees', () => {
  for (const createdAt of [
    '9999-12-31T23:59:59.000Z',
    '0000-01-01T00:00:00.000Z',
    '2006-03-20T23:59:59.999Z',
    new Date(NOW + CONTRACT_LIMITS.maxFutureSkewMs + 1).toISOString(),
  ]) {
    const ingest = postFromStreamLine(line({ id: '1', created_at: createdAt }), NOW);
    assert.ok(!ingest.ok, createdAt);
    assert.equal(ingest.error.code, 'created_at_out_of_range', createdAt);
    // The Kafka path: analyze decodes a Post and validates it against the same contract.
    const analyze = validatePost({ id: '1', text: 'hello', createdAt, lang: 'en', topics: ['markets'], ingestedAt: NOW });
    assert.ok(!analyze.ok, createdAt);
    const store = validateScoredPost({
      id: '1',
      createdAt,
      topics: ['m'],
      lang: 'en',
      label: 'neutral',
      probs: { neg: 0, neu: 1, pos: 0 },
      score: 0,
      model: 'm',
      flags: [],
      ingestedAt: NOW,
      analyzedAt: NOW,
    });
    assert.ok(!store.ok, createdAt);
  }
  const tenThousand = postFromStreamLine(line({ id: '1', created_at: '+010000-01-01T00:00:00.000Z' }), NOW);
  assert.ok(!tenThousand.ok);
  // Within bounds: an offset is normalised to one UTC instant, the same string every stage sees.
  const offset = postFromStreamLine(line({ id: '1', created_at: '2026-11-03T08:00:00+02:00' }), NOW);
  assert.ok(offset.ok);
  assert.equal(offset.value.createdAt, '2026-11-03T06:00:00.000Z');
  assert.ok(validatePost(offset.value).ok);
});

test('#11.7 tags with lone surrogates are refused (never merged into U+FFFD or stored as invalid UTF-8); NFC forms are one topic', () => {
  for (const tag of ['y\ud800', 'y\udbff', '\udc00z']) {
    const r = postFromStreamLine(line({ id: '1' }, [tag]), NOW);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'invalid_topic');
  }
  assert.equal((canonicalTopic('tab\tin tag') as { ok: boolean }).ok, false);
  assert.equal((canonicalTopic('x'.repeat(CONTRACT_LIMITS.maxTopicLength + 1)) as { ok: boolean }).ok, false);
  const nfc = postFromStreamLine(line({ id: '1' }, ['caf\u00e9', 'cafe\u0301']), NOW);
  assert.ok(nfc.ok);
  assert.deepEqual(nfc.value.topics, ['caf\u00e9']);
  // Text is not a key: a lone surrogate there becomes U+FFFD, identically for every sink.
  const text = postFromStreamLine(line({ id: '1', text: 'a \ud800 b' }), NOW);
  assert.ok(text.ok);
  assert.equal(text.value.text, 'a \ufffd b');
});

test('#11.7 ids "42" and "0000000000000000042" are one post; ids beyond int64 are refused', () => {
  const a = postFromStreamLine(line({ id: '42' }), NOW);
  const b = postFromStreamLine(line({ id: '0000000000000000042' }), NOW);
  assert.ok(a.ok && b.ok);
  assert.equal(a.value.id, '42');
  assert.equal(b.value.id, '42');
  assert.deepEqual(canonicalPostId('0'), { ok: true, value: '0' });
  assert.deepEqual(canonicalPostId('9223372036854775807'), { ok: true, value: '9223372036854775807' });
  const tooBig = postFromStreamLine(line({ id: '9223372036854775808' }), NOW);
  assert.ok(!tooBig.ok);
  assert.equal(tooBig.error.code, 'invalid_shape');
});

test('#11.3 a post with more than 1,000 topics or a 600,000-character tag is refused with invalid_topic', () => {
  const many = postFromStreamLine(
    line(
      { id: '1' },
      Array.from({ length: 1001 }, (_, i) => `t${i}`),
    ),
    NOW,
  );
  assert.ok(!many.ok);
  assert.equal(many.error.code, 'invalid_topic');
  const thousand = postFromStreamLine(
    line(
      { id: '1' },
      Array.from({ length: 1000 }, (_, i) => `t${i}`),
    ),
    NOW,
  );
  assert.ok(thousand.ok);
  assert.equal(thousand.value.topics.length, 1000);
  const huge = postFromStreamLine(line({ id: '1' }, ['x'.repeat(600_000)]), NOW);
  assert.ok(!huge.ok);
  assert.equal(huge.error.code, 'invalid_topic');
  assert.ok(huge.error.reason.length < 300, 'the reason does not carry the tag');
});
