import avro from 'avsc';
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { type ScoredPost, scoredPostOf } from '../../src/contract/index.js';
import { ENCODING_HEADER, SCHEMA_HEADER, confluentSchemaId, headerValue, postCodec, scoredPostCodec } from '../../src/kafka/codec.js';
import type { MessageHeader } from '../../src/kafka/rdkafka.js';
import { makePosts } from './posts.js';

const scored = (i: number): ScoredPost => {
  const probs = { neg: 0.1 + i / 1000, neu: 0.3, pos: 0.6 - i / 1000 };
  const [p] = makePosts(1, i);
  return scoredPostOf(p!, probs, { model: 'm1', flags: i % 2 ? ['non_english'] : [], analyzedAt: p!.ingestedAt + 7 });
};

describe('Kafka wire codec', () => {
  it('#16.2 confluent-avro: byte 0, the schema id big-endian, then the same Avro binary as the header format, and no headers', () => {
    const [p] = makePosts(1);
    const framed = postCodec('confluent-avro', { schemaId: 0x01020304 }).encode(p!);
    const plain = postCodec('avro').encode(p!);
    assert.deepEqual([...framed.value.subarray(0, 5)], [0, 1, 2, 3, 4]);
    assert.ok(framed.value.subarray(5).equals(plain.value));
    assert.deepEqual(framed.headers, []);
    assert.equal(confluentSchemaId(framed.value, framed.headers), 0x01020304);
    // The header format is never taken for the registry one, even when its Avro starts with byte 0.
    assert.equal(confluentSchemaId(Buffer.from([0, 0, 0, 0, 1, 2]), plain.headers), undefined);
    assert.throws(() => postCodec('confluent-avro'), /needs the registered schema id/);
  });

  it('#16.2 a registry-framed message read without kafka.schemaRegistryUrl is refused with that reason, not guessed at', async () => {
    const [p] = makePosts(1);
    const framed = postCodec('confluent-avro', { schemaId: 7 }).encode(p!);
    const reader = postCodec('avro');
    await reader.prepare([framed]);
    const r = reader.decode(framed.value, framed.headers);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'unknown_version');
    assert.match(!r.ok ? r.error.reason : '', /schema id 7\) but kafka\.schemaRegistryUrl is not set/);
  });

  for (const encoding of ['avro', 'json'] as const) {
    it(`round-trips posts and scored posts exactly (${encoding})`, () => {
      const posts = makePosts(50);
      // An offset timestamp does not round-trip through epoch ms: it must travel as the string.
      posts[3] = { ...posts[3]!, createdAt: '2026-11-01T01:00:00+02:00' };
      const pc = postCodec(encoding);
      for (const p of posts) {
        const e = pc.encode(p);
        assert.equal(headerValue(e.headers, SCHEMA_HEADER), 'post.v2');
        assert.equal(headerValue(e.headers, ENCODING_HEADER), encoding);
        // Decoding checks the contract again, whose canonical created_at is the UTC instant.
        assert.deepEqual(pc.decode(e.value, e.headers), { ok: true, value: { ...p, createdAt: new Date(p.createdAt).toISOString() } });
      }
      const sc = scoredPostCodec(encoding);
      for (let i = 0; i < 20; i++) {
        const s = scored(i);
        const e = sc.encode(s);
        assert.deepEqual(sc.decode(e.value, e.headers), { ok: true, value: s }, 'doubles and all fields survive');
      }
    });
  }

  it('reads either encoding whatever it produces (consumers survive a producer switching encoding)', () => {
    const [p] = makePosts(1);
    const json = postCodec('json').encode(p!);
    assert.deepEqual(postCodec('avro').decode(json.value, json.headers), { ok: true, value: p });
  });

  it('avro is smaller than json for both messages', () => {
    const [p] = makePosts(1, 7);
    assert.ok(postCodec('avro').encode(p!).value.length < postCodec('json').encode(p!).value.length);
    assert.ok(scoredPostCodec('avro').encode(scored(7)).value.length < scoredPostCodec('json').encode(scored(7)).value.length);
  });

  it('refuses unknown versions, unknown encodings, missing headers, bad bytes and contract violations with a reason', () => {
    const codec = postCodec('avro');
    const [p] = makePosts(1);
    const good = codec.encode(p!);
    const code = (r: ReturnType<typeof codec.decode>): string => (r.ok ? 'ok' : r.error.code);
    assert.equal(code(codec.decode(good.value, [{ [SCHEMA_HEADER]: 'post.v9' }, { [ENCODING_HEADER]: 'avro' }])), 'unknown_version');
    assert.equal(code(codec.decode(good.value, [{ [SCHEMA_HEADER]: 'scored.v1' }, { [ENCODING_HEADER]: 'avro' }])), 'unknown_version');
    assert.equal(code(codec.decode(good.value, [{ [SCHEMA_HEADER]: 'post.v1' }, { [ENCODING_HEADER]: 'protobuf' }])), 'unknown_version');
    assert.equal(code(codec.decode(good.value, [])), 'unknown_version');
    assert.equal(code(codec.decode(good.value, undefined)), 'unknown_version');
    assert.equal(code(codec.decode(good.value.subarray(0, good.value.length - 3), good.headers)), 'decode_failed');
    assert.equal(code(codec.decode(Buffer.concat([good.value, Buffer.from([1, 2])]), good.headers)), 'decode_failed');
    assert.equal(code(codec.decode(null, good.headers)), 'decode_failed');
    assert.equal(code(codec.decode(Buffer.from('{"id":'), [{ [SCHEMA_HEADER]: 'post.v1' }, { [ENCODING_HEADER]: 'json' }])), 'decode_failed');
    const bad = postCodec('json').encode({ ...p!, id: 'not-a-number' });
    const r = codec.decode(bad.value, bad.headers);
    assert.equal(code(r), 'invalid_shape');
    assert.match(r.ok ? '' : r.error.reason, /id/);
  });

  it('v2 carries author and reference; v1 messages (without them) still decode', () => {
    const [p] = makePosts(1);
    const amplified = { ...p!, authorId: '532612', refKind: 'retweeted' as const, refId: '2117496997278646000' };
    for (const encoding of ['avro', 'json'] as const) {
      const e = postCodec(encoding).encode(amplified);
      assert.deepEqual(postCodec(encoding).decode(e.value, e.headers), { ok: true, value: amplified });
      const plain = postCodec(encoding).encode(p!);
      assert.deepEqual(postCodec(encoding).decode(plain.value, plain.headers), { ok: true, value: p }, 'absent fields stay absent');
    }
    const v1 = postV1Bytes(p!);
    assert.deepEqual(postCodec('avro').decode(v1, [{ [SCHEMA_HEADER]: 'post.v1' }, { [ENCODING_HEADER]: 'avro' }]), { ok: true, value: p });
    const s = { ...scored(3), authorId: '7', refKind: 'quoted' as const, refId: '0042' };
    const es = scoredPostCodec('avro').encode(s);
    assert.deepEqual(scoredPostCodec('avro').decode(es.value, es.headers), { ok: true, value: { ...s, refId: '42' } }, 'reference ids canonical');
  });

  it('header values arrive as Buffers from the broker and are read as strings', () => {
    const [p] = makePosts(1);
    const e = postCodec('avro').encode(p!);
    const asBuffers: MessageHeader[] = [{ [SCHEMA_HEADER]: Buffer.from('post.v2') }, { [ENCODING_HEADER]: Buffer.from('avro') }];
    assert.deepEqual(postCodec('avro').decode(e.value, asBuffers), { ok: true, value: p });
  });
});

/** A post as a v1 producer (before the amplification fields) wrote it. */
function postV1Bytes(p: { id: string; text: string; createdAt: string; lang: string; topics: string[]; ingestedAt: number }): Buffer {
  const v1 = avro.Type.forSchema({
    type: 'record',
    name: 'Post',
    namespace: 'crowdpulse.v1',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'text', type: 'string' },
      { name: 'createdAt', type: ['long', 'string'] },
      { name: 'lang', type: 'string' },
      { name: 'topics', type: { type: 'array', items: 'string' } },
      { name: 'ingestedAt', type: 'long' },
    ],
  });
  return v1.toBuffer({ ...p, createdAt: Date.parse(p.createdAt) });
}
