import type { DeadLetter } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import type { KafkaProducer } from '../../kafka/producer.js';
import type { MessageHeader } from '../../kafka/rdkafka.js';

/** Dead-letter headers: why and where a message was refused. The value is the original bytes, untouched. */
export const DEAD_LETTER_HEADERS = {
  stage: 'cp-dl-stage',
  code: 'cp-dl-code',
  reason: 'cp-dl-reason',
  origin: 'cp-dl-origin',
  at: 'cp-dl-at',
} as const;

/** Longest reason kept in a header (headers are not meant for essays). */
const MAX_REASON = 1024;

/**
 * Refused messages to the dead-letter topic: original bytes as the value, the reason in headers,
 * keyed by origin (topic/partition@offset, file:line) when known. Resolves when the broker acked them.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(private readonly producer: KafkaProducer, private readonly topic: string, private readonly ownsProducer = false) {}

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send(letters.map((l) => {
      const headers: MessageHeader[] = [
        { [DEAD_LETTER_HEADERS.stage]: l.stage },
        { [DEAD_LETTER_HEADERS.code]: l.code },
        { [DEAD_LETTER_HEADERS.reason]: l.reason.slice(0, MAX_REASON) },
        { [DEAD_LETTER_HEADERS.at]: new Date(l.at).toISOString() },
      ];
      if (l.origin !== undefined) headers.push({ [DEAD_LETTER_HEADERS.origin]: l.origin });
      return { topic: this.topic, key: l.origin ?? `${l.stage}:${l.code}`, value: Buffer.from(l.original), headers };
    }));
  }

  async close(): Promise<void> {
    if (this.ownsProducer) await this.producer.close();
  }
}
