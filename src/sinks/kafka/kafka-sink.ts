import { oversizedDeadLetter, oversizedOf, type DeadLetter, type Stage } from '../../contract/index.js';
import type { DeadLetterSink, Sink } from '../../pipeline/component.js';
import { CrowdpulseError } from '../../errors.js';
import type { Limits } from '../../kafka/client-config.js';
import type { WireCodec } from '../../kafka/codec.js';
import { recordBytes, type KafkaProducer, type OutgoingMessage } from '../../kafka/producer.js';
import { logger } from '../../telemetry/log.js';

const log = logger('kafka');

export interface KafkaSinkOptions {
  /** Where an item too large for a Kafka record goes. Without one, such an item fails the batch. */
  readonly deadLetters?: DeadLetterSink;
  /** Stage named in those dead letters. */
  readonly stage?: Stage;
  /** limits.maxMessageBytes and deadLetterSnippetBytes; the producer's limits when not given. */
  readonly limits?: Limits;
}

/**
 * Produces each item to a topic, keyed by post id (same post → same partition). `write` resolves
 * only when the batch is durable: the broker acknowledged every record (acks=all, idempotent
 * producer) and the dead letters of the items that could not be records are durable, so the
 * upstream source may then commit its offsets.
 *
 * An item whose record (value, key, headers) is larger than limits.maxMessageBytes is not produced:
 * it becomes an `oversized` dead letter (its first bytes, length and SHA-256). A record the
 * producer or broker still refuses as too large (ERR_MSG_SIZE_TOO_LARGE) is dead-lettered the same way.
 */
export class KafkaSink<T extends { readonly id: string }> implements Sink<T> {
  readonly name: string;
  readonly #limits: Limits;
  readonly #deadLetters: DeadLetterSink | undefined;
  /** The stage whose output it produces (ingest → raw topic, analyze → scored topic). */
  readonly stage: Stage;

  constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    private readonly codec: WireCodec<T>,
    private readonly ownsProducer = true,
    options: KafkaSinkOptions = {},
  ) {
    this.name = `kafka:${topic}`;
    this.#limits = options.limits ?? producer.limits;
    this.#deadLetters = options.deadLetters;
    this.stage = options.stage ?? 'ingest';
  }

  async write(items: readonly T[]): Promise<void> {
    if (items.length === 0) return;
    const { maxMessageBytes, deadLetterSnippetBytes } = this.#limits;
    const messages: OutgoingMessage[] = [];
    const letters: DeadLetter[] = [];
    for (const item of items) {
      const { value, headers } = this.codec.encode(item);
      const message: OutgoingMessage = { topic: this.topic, key: item.id, value, headers };
      if (recordBytes(message) > maxMessageBytes) letters.push(this.#oversized(message));
      else messages.push(message);
    }
    // Both at once; the batch is durable when both are.
    const [refused] = await Promise.all([this.producer.deliver(messages), this.#deadLetter(letters)]);
    if (refused.length > 0) {
      log.warn('records refused as too large by librdkafka or the broker: dead-lettered', {
        topic: this.topic,
        count: refused.length,
        error: refused[0]?.error.message,
      });
      await this.#deadLetter(
        refused.map((r) => {
          const letter = this.#oversized(r.message, deadLetterSnippetBytes);
          const sha256 = letter.truncated?.sha256 ?? '';
          return {
            ...letter,
            reason: `record of ${recordBytes(r.message)} bytes (value sha256 ${sha256}) refused by the producer or broker: ${r.error.message} (code ${r.error.code})`,
          };
        }),
      );
    }
  }

  #oversized(message: OutgoingMessage, keep = this.#limits.deadLetterSnippetBytes): DeadLetter {
    return oversizedDeadLetter(this.stage, oversizedOf(message.value, keep), this.#limits.maxMessageBytes, `post:${message.key}`);
  }

  async #deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    if (!this.#deadLetters) {
      throw new CrowdpulseError(
        'CP_KAFKA_RECORD_TOO_LARGE',
        `${letters.length} record(s) for ${this.topic} larger than limits.maxMessageBytes = ${this.#limits.maxMessageBytes} and no dead-letter sink: ${letters[0]?.reason}`,
      );
    }
    await this.#deadLetters.write(letters);
  }

  async close(): Promise<void> {
    if (this.ownsProducer) await this.producer.close();
  }
}
