/**
 * The codecs a Kafka role produces and consumes with, built from kafka.encoding and
 * kafka.schemaRegistry*: with confluent-avro, a producing codec first registers our schema under
 * `<topic>-value` (compatibility level set, then checked); every consuming codec reads all formats,
 * registry-framed ones through the registry when one is configured.
 */
import type { KafkaConfig } from '../config/sections/kafka.js';
import type { Post, ScoredPost } from '../contract/index.js';
import { CrowdpulseError } from '../errors.js';
import { postCodec, scoredPostCodec, type CodecOptions, type WireCodec } from './codec.js';
import { SchemaRegistryClient } from './schema-registry.js';
import { WriterSchemas } from './writer-schemas.js';

/** TopicNameStrategy: the value schema of `topic` lives under `<topic>-value`. */
export const valueSubject = (topic: string): string => `${topic}-value`;

export class KafkaWire {
  readonly #registry: WriterSchemas | undefined;

  constructor(private readonly kafka: KafkaConfig) {
    const client = SchemaRegistryClient.fromConfig(kafka);
    this.#registry = client ? new WriterSchemas(client, kafka.schemaRegistryCacheSize) : undefined;
  }

  /** Codec of posts produced to `topic` (registered first with confluent-avro). */
  postsTo(topic: string): Promise<WireCodec<Post>> {
    return this.#producing(topic, postCodec('avro').avroSchema, (o) => postCodec(this.kafka.encoding, o));
  }

  /** Codec of scored posts produced to `topic` (registered first with confluent-avro). */
  scoredTo(topic: string): Promise<WireCodec<ScoredPost>> {
    return this.#producing(topic, scoredPostCodec('avro').avroSchema, (o) => scoredPostCodec(this.kafka.encoding, o));
  }

  /** Codec of consumed posts: every format. */
  postsFrom(): WireCodec<Post> {
    return postCodec('avro', { registry: this.#registry });
  }

  /** Codec of consumed scored posts: every format. */
  scoredFrom(): WireCodec<ScoredPost> {
    return scoredPostCodec('avro', { registry: this.#registry });
  }

  async #producing<T>(topic: string, schema: string, make: (options: CodecOptions) => WireCodec<T>): Promise<WireCodec<T>> {
    if (this.kafka.encoding !== 'confluent-avro') return make({ registry: this.#registry });
    if (!this.#registry) throw new CrowdpulseError('CP_INTERNAL', 'kafka.encoding = confluent-avro without kafka.schemaRegistryUrl (the config refuses this)');
    const schemaId = await this.#registry.client.register(valueSubject(topic), schema, this.kafka.schemaRegistryCompatibility);
    return make({ registry: this.#registry, schemaId });
  }

  async close(): Promise<void> {
    await this.#registry?.client.close();
  }
}
