import avro from 'avsc';
import { err, rejection, validatePost, validateScoredPost, type Post, type Rejection, type Result, type ScoredPost } from '../contract/index.js';
import { CrowdpulseError } from '../errors.js';
import type { MessageHeader } from './rdkafka.js';
import { LruMap, type WriterSchemas } from './writer-schemas.js';

/**
 * Wire formats of the Kafka topics; every one is always decodable, so producers can switch while
 * consumers run.
 *
 * Header formats (kafka.encoding avro | json): the value alone, and two headers:
 *   cp-schema   = "<name>.v<version>"  (post.v2, scored.v2; v1 still decodes): the contract version of the value
 *   cp-encoding = "avro" | "json"
 * Registry format (kafka.encoding confluent-avro), the Confluent Schema Registry wire format that
 * Kafka Connect, ksqlDB and every registry client read: byte 0, the schema id (4 bytes, big-endian),
 * then Avro binary; no headers. A message without a cp-schema header whose value starts with byte 0
 * is read this way: its writer schema is fetched by id (`prepare`, before a batch is decoded) and
 * resolved against our current schema (avsc's resolver).
 *
 * An unknown version, an unknown schema id, a registry that does not answer or undecodable bytes
 * is a Rejection (→ dead-letter topic). A new contract version adds a new entry to `SCHEMAS`; old
 * ones stay decodable.
 */
export const SCHEMA_HEADER = 'cp-schema';
export const ENCODING_HEADER = 'cp-encoding';
export type Encoding = 'avro' | 'json' | 'confluent-avro';
/** First byte of a registry-framed value, then the schema id (4 bytes, big-endian). */
export const CONFLUENT_MAGIC = 0;
const CONFLUENT_PREFIX = 5;

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

/** What a consumed message gives the codec. */
export interface WireMessage {
  readonly value?: Buffer | null | undefined;
  readonly headers?: readonly MessageHeader[] | undefined;
}

export interface WireCodec<T> {
  readonly schema: string;
  readonly encoding: Encoding;
  /** The Avro schema of the current version, as JSON text (what is registered for confluent-avro). */
  readonly avroSchema: string;
  encode(value: T): Encoded;
  /**
   * Fetches what decoding these messages needs from elsewhere: the writer schemas of registry-framed
   * ones (retried while the registry does not answer). Never throws; call it before `decode`.
   */
  prepare(messages: readonly WireMessage[], signal?: AbortSignal): Promise<void>;
  decode(value: Buffer | null | undefined, headers: readonly MessageHeader[] | undefined): Result<T, Rejection>;
}

export interface CodecOptions {
  /** Writer schemas by id: needed to decode registry-framed messages. */
  readonly registry?: WriterSchemas | undefined;
  /** The registered id of our schema: needed to encode confluent-avro. */
  readonly schemaId?: number | undefined;
}

/** The schema id of a registry-framed message (no cp-schema header, byte 0, at least 5 bytes); undefined for any other. */
export function confluentSchemaId(value: Buffer | null | undefined, headers: readonly MessageHeader[] | undefined): number | undefined {
  if (!value || value.length < CONFLUENT_PREFIX || value[0] !== CONFLUENT_MAGIC) return undefined;
  if (headerValue(headers, SCHEMA_HEADER) !== undefined) return undefined;
  return value.readUInt32BE(1);
}

/** First value of a header, as a string. */
export function headerValue(headers: readonly MessageHeader[] | undefined, name: string): string | undefined {
  for (const h of headers ?? []) {
    const v = h[name];
    if (v !== undefined) return typeof v === 'string' ? v : v.toString('utf8');
  }
  return undefined;
}

/** avsc's record instances as the plain objects the contract validates. */
function plainOf(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  const plain = { ...(raw as Record<string, unknown>) };
  plain.createdAt = unpackDate(plain.createdAt);
  if (plain.probs !== null && typeof plain.probs === 'object') plain.probs = { ...(plain.probs as Record<string, unknown>) };
  for (const key of AMPLIFICATION_KEYS) if (plain[key] === null) delete plain[key];
  return plain;
}

function codec<T extends { createdAt: string }>(
  schemas: Record<string, SchemaEntry<T>>,
  current: string,
  encoding: Encoding,
  options: CodecOptions = {},
): WireCodec<T> {
  const entry = schemas[current] as SchemaEntry<T>;
  const { registry, schemaId } = options;
  if (encoding === 'confluent-avro' && schemaId === undefined)
    throw new CrowdpulseError('CP_INTERNAL', `${current}: confluent-avro needs the registered schema id (src/kafka/wire.ts)`);
  const headers: MessageHeader[] = encoding === 'confluent-avro' ? [] : [{ [SCHEMA_HEADER]: current }, { [ENCODING_HEADER]: encoding }];
  const prefix = Buffer.alloc(CONFLUENT_PREFIX);
  prefix.writeUInt32BE(schemaId ?? 0, 1);
  /** Resolvers from a writer schema id to our current schema, bounded like the writer schemas. */
  const resolvers = new LruMap<number, Result<avro.Resolver, Rejection>>(256);

  const decodeRegistryFramed = (id: number, value: Buffer): Result<T, Rejection> => {
    if (!registry) return err(rejection('unknown_version', `registry-framed message (byte 0, schema id ${id}) but kafka.schemaRegistryUrl is not set`));
    const writer = registry.get(id);
    if (writer === undefined) return err(rejection('schema_unavailable', `schema id ${id} was not looked up before decoding (a bug)`));
    if (!writer.ok) return err(rejection(writer.code, writer.reason));
    let resolver = resolvers.get(id);
    if (!resolver) {
      try {
        resolver = { ok: true, value: entry.avro.createResolver(writer.type) };
      } catch (e) {
        resolver = err(rejection('unknown_version', `schema id ${id} cannot be read as ${current}: ${(e as Error).message}`));
      }
      resolvers.set(id, resolver);
    }
    if (!resolver.ok) return resolver;
    let raw: unknown;
    try {
      raw = entry.avro.fromBuffer(value.subarray(CONFLUENT_PREFIX), resolver.value);
    } catch (e) {
      return err(rejection('decode_failed', `schema id ${id} (${registry.where}): ${(e as Error).message}`));
    }
    return entry.validate(plainOf(raw));
  };

  return {
    schema: current,
    encoding,
    avroSchema: JSON.stringify(entry.avro.schema()),
    encode(value: T): Encoded {
      if (encoding === 'json') return { value: Buffer.from(JSON.stringify(value), 'utf8'), headers };
      const bytes = entry.avro.toBuffer(packOptional({ ...value, createdAt: packDate(value.createdAt) }));
      return { value: encoding === 'avro' ? bytes : Buffer.concat([prefix, bytes]), headers };
    },
    async prepare(messages, signal) {
      if (!registry) return;
      const ids: number[] = [];
      for (const m of messages) {
        const id = confluentSchemaId(m.value, m.headers);
        if (id !== undefined) ids.push(id);
      }
      if (ids.length > 0) await registry.load(ids, signal);
    },
    decode(value, msgHeaders) {
      const schemaId = headerValue(msgHeaders, SCHEMA_HEADER);
      const enc = headerValue(msgHeaders, ENCODING_HEADER);
      if (schemaId === undefined) {
        const id = confluentSchemaId(value, msgHeaders);
        if (id !== undefined && value) return decodeRegistryFramed(id, value);
        return err(
          rejection(
            'unknown_version',
            `no ${SCHEMA_HEADER} header (expected one of ${Object.keys(schemas).join(', ')}) and not registry-framed (byte 0 + schema id)`,
          ),
        );
      }
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
      // avsc returns record instances; the contract wants plain objects.
      return known.validate(enc === 'avro' ? plainOf(raw) : raw);
    },
  };
}

export const postCodec = (encoding: Encoding, options?: CodecOptions): WireCodec<Post> => codec(POST_SCHEMAS, 'post.v2', encoding, options);
export const scoredPostCodec = (encoding: Encoding, options?: CodecOptions): WireCodec<ScoredPost> => codec(SCORED_SCHEMAS, 'scored.v2', encoding, options);
