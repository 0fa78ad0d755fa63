import type { Sink } from '../../pipeline/component.js';
import type { WireCodec } from '../../kafka/codec.js';
import type { KafkaProducer, OutgoingMessage } from '../../kafka/producer.js';

/**
 * Produces each item to a topic, keyed by post id (same post → same partition). `write` resolves
 * only when the broker acknowledged every message of the batch (acks=all, idempotent producer),
 * so the upstream source may then commit its offsets.
 */
export class KafkaSink<T extends { readonly id: string }> implements Sink<T> {
  readonly name: string;

  constructor(private readonly producer: KafkaProducer, private readonly topic: string, private readonly codec: WireCodec<T>, private readonly ownsProducer = true) {
    this.name = `kafka:${topic}`;
  }

  async write(items: readonly T[]): Promise<void> {
    if (items.length === 0) return;
    const messages: OutgoingMessage[] = items.map((item) => {
      const { value, headers } = this.codec.encode(item);
      return { topic: this.topic, key: item.id, value, headers };
    });
    await this.producer.send(messages);
  }

  async close(): Promise<void> {
    if (this.ownsProducer) await this.producer.close();
  }
}
