import avro from 'avsc';
import { err, rejection, validatePost, validateScoredPost, type Post, type Rejection, type Result, type ScoredPost } from '../contract/index.js';
import type { MessageHeader } from './rdkafka.js';

/**
 * Wire format of the Kafka topics. Every message carries two headers:
 *   cp-schema   = "<name>.v<version>"  (post.v2, scored.v2; v1 still decodes): the contract version of the value
 *   cp-encoding = "avro" | "json"
 * Decoding accepts every known (schema, encoding) pair, so producers can switch encoding while
 * consumers run; an unknown pair or undecodable bytes is a Rejection (→ dead-letter topic).
 * A new contract version adds a new entry to `SCHEMAS`; old ones stay decodable.
 */
export const SCHEMA_HEADER = 'cp-schema';
export const ENCODING_HEADER = 'cp-encoding';
export type Encoding = 'avro' | 'json';

/** createdAt travels as epoch ms when the ISO string round-trips exactly (the usual case), else as the string. */
const createdAtType = ['long', 'string'];

const postV1 = avro.Type.forSchema({
  type: 'record',
  name: 'Post',
  namespace: 'crowdpulse.v1',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'text', type: 'string' },
    { name: 'createdAt', type: createdAtType },
    { name: 'lang', type: 'string' },
    { name: 'topics', type: { type: 'array', items: 'string' } },
    { name: 'ingestedAt', type: 'long' },
  ],
});

/**
 * Version 2 of both records adds the amplification fields (src/contract/amplification.ts), each
 * nullable with a null default: a v1 reader's schema resolves against them, and v1 messages still
 * decode here by their own header.
 */
const amplificationAvroFields: avro.schema.RecordType['fields'] = [
  { name: 'authorId', type: ['null', 'string'], default: null },
  { name: 'refKind', type: ['null', { type: 'enum', name: 'RefKind', symbols: ['retweeted', 'quoted', 'replied_to'] }], default: null },
  { name: 'refId', type: ['null', 'string'], default: null },
];

const postV2 = avro.Type.forSchema({
  type: 'record',
  name: 'Post',
  namespace: 'crowdpulse.v2',
  fields: [...(postV1.schema() as avro.schema.RecordType).fields, ...amplificationAvroFields],
});

const scoredV1 = avro.Type.forSchema({
  type: 'record',
  name: 'ScoredPost',
  namespace: 'crowdpulse.v1',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'createdAt', type: createdAtType },
    { name: 'topics', type: { type: 'array', items: 'string' } },
    { name: 'lang', type: 'string' },
    { name: 'label', type: { type: 'enum', name: 'Label', symbols: ['negative', 'neutral', 'positive'] } },
    // double, not float: the stored score must equal what the embedded pipeline stores.
    {
      name: 'probs',
      type: {
        type: 'record',
        name: 'Probs',
        fields: [
          { name: 'neg', type: 'double' },
          { name: 'neu', type: 'double' },
          { name: 'pos', type: 'double' },
        ],
      },
    },
    { name: 'score', type: 'double' },
    { name: 'model', type: 'string' },
    { name: 'flags', type: { type: 'array', items: 'string' } },
    { name: 'ingestedAt', type: 'long' },
    { name: 'analyzedAt', type: 'long' },
  ],
});

const scoredV2 = avro.Type.forSchema({
  type: 'record',
  name: 'ScoredPost',
  namespace: 'crowdpulse.v2',
  fields: [...(scoredV1.schema() as avro.schema.RecordType).fields, ...amplificationAvroFields],
});

/** Avro's null for an absent optional field, and back. */
const AMPLIFICATION_KEYS = ['authorId', 'refKind', 'refId'] as const;
const packOptional = (value: Record<string, unknown>): Record<string, unknown> => {
  for (const key of AMPLIFICATION_KEYS) if (value[key] === undefined) value[key] = null;
  return value;
};

const packDate = (iso: string): number | string => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : iso;
};
const unpackDate = (v: unknown): unknown => (typeof v === 'number' ? new Date(v).toISOString() : v);

interface SchemaEntry<T> {
  readonly id: string;
  readonly avro: avro.Type;
  readonly validate: (value: unknown) => Result<T, Rejection>;
}

const POST_SCHEMAS: Record<string, SchemaEntry<Post>> = {
  'post.v1': { id: 'post.v1', avro: postV1, validate: validatePost },
  'post.v2': { id: 'post.v2', avro: postV2, validate: validatePost },
};
const SCORED_SCHEMAS: Record<string, SchemaEntry<ScoredPost>> = {
  'scored.v1': { id: 'scored.v1', avro: scoredV1, validate: validateScoredPost },
  'scored.v2': { id: 'scored.v2', avro: scoredV2, validate: validateScoredPost },
};

export interface Encoded {
  readonly value: Buffer;
  readonly headers: MessageHeader[];
}

export interface WireCodec<T> {
  readonly schema: string;
  readonly encoding: Encoding;
  encode(value: T): Encoded;
  decode(value: Buffer | null | undefined, headers: readonly MessageHeader[] | undefined): Result<T, Rejection>;
}

/** First value of a header, as a string. */
export function headerValue(headers: readonly MessageHeader[] | undefined, name: string): string | undefined {
  for (const h of headers ?? []) {
    const v = h[name];
    if (v !== undefined) return typeof v === 'string' ? v : v.toString('utf8');
  }
  return undefined;
}

function codec<T extends { createdAt: string }>(schemas: Record<string, SchemaEntry<T>>, current: string, encoding: Encoding): WireCodec<T> {
  const entry = schemas[current] as SchemaEntry<T>;
  const headers: MessageHeader[] = [{ [SCHEMA_HEADER]: current }, { [ENCODING_HEADER]: encoding }];
  return {
    schema: current,
    encoding,
    encode(value: T): Encoded {
      const bytes =
        encoding === 'avro'
          ? entry.avro.toBuffer(packOptional({ ...value, createdAt: packDate(value.createdAt) }))
          : Buffer.from(JSON.stringify(value), 'utf8');
      return { value: bytes, headers };
    },
    decode(value, msgHeaders) {
      const schemaId = headerValue(msgHeaders, SCHEMA_HEADER);
      const enc = headerValue(msgHeaders, ENCODING_HEADER);
      if (schemaId === undefined) return err(rejection('unknown_version', `no ${SCHEMA_HEADER} header (expected one of ${Object.keys(schemas).join(', ')})`));
      const known = schemas[schemaId];
      if (known === undefined)
        return err(rejection('unknown_version', `${SCHEMA_HEADER} "${schemaId}" is not known here (known: ${Object.keys(schemas).join(', ')})`));
      if (value === null || value === undefined || value.length === 0) return err(rejection('decode_failed', 'empty message value'));
      let raw: unknown;
      try {
        if (enc === 'avro') raw = known.avro.fromBuffer(value);
        else if (enc === 'json') raw = JSON.parse(value.toString('utf8'));
        else return err(rejection('unknown_version', `${ENCODING_HEADER} "${enc ?? '(none)'}" is not known (avro, json)`));
      } catch (e) {
        return err(rejection('decode_failed', `${schemaId}+${enc}: ${(e as Error).message}`));
      }
      if (enc === 'avro' && raw !== null && typeof raw === 'object') {
        // avsc returns record instances; the contract wants plain objects.
        const plain = { ...(raw as Record<string, unknown>) };
        plain.createdAt = unpackDate(plain.createdAt);
        if (plain.probs !== null && typeof plain.probs === 'object') plain.probs = { ...(plain.probs as Record<string, unknown>) };
        for (const key of AMPLIFICATION_KEYS) if (plain[key] === null) delete plain[key];
        raw = plain;
      }
      return known.validate(raw);
    },
  };
}

export const postCodec = (encoding: Encoding): WireCodec<Post> => codec(POST_SCHEMAS, 'post.v2', encoding);
export const scoredPostCodec = (encoding: Encoding): WireCodec<ScoredPost> => codec(SCORED_SCHEMAS, 'scored.v2', encoding);
