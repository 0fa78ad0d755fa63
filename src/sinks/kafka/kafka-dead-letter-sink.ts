import { deadLetterKey, oversizedDeadLetter, oversizedOf, type DeadLetter } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import type { Limits } from '../../kafka/client-config.js';
import type { KafkaProducer, OutgoingMessage } from '../../kafka/producer.js';
import type { MessageHeader } from '../../kafka/rdkafka.js';

/**
 * Dead-letter headers: why and where a message was refused. The value is the original bytes,
 * untouched, or, for a message larger than limits.maxMessageBytes, only its first
 * limits.deadLetterSnippetBytes, with the whole message's length and SHA-256 in `length`/`sha256`.
 */
export const DEAD_LETTER_HEADERS = {
  stage: 'cp-dl-stage',
  code: 'cp-dl-code',
  reason: 'cp-dl-reason',
  origin: 'cp-dl-origin',
  at: 'cp-dl-at',
  /** Only on a truncated value: the byte length of the whole original message. */
  length: 'cp-dl-length',
  /** Only on a truncated value: SHA-256 (hex) of the whole original message. */
  sha256: 'cp-dl-sha256',
} as const;

/** Longest reason kept in a header (headers are not meant for essays). */
const MAX_REASON = 1024;

/**
 * A letter whose value fits the limit. An untruncated original larger than limits.maxMessageBytes
 * becomes an `oversized` letter (its first deadLetterSnippetBytes, length and SHA-256) whose reason
 * keeps the first refusal; an already truncated one whose head is still too long is cut further.
 */
export function boundedDeadLetter(letter: DeadLetter, limits: Limits): DeadLetter {
  const keep = Math.min(limits.deadLetterSnippetBytes, limits.maxMessageBytes);
  if (letter.truncated) {
    return letter.original.length <= limits.maxMessageBytes ? letter : { ...letter, original: letter.original.subarray(0, keep) };
  }
  if (letter.original.length <= limits.maxMessageBytes) return letter;
  const bounded = oversizedDeadLetter(letter.stage, oversizedOf(letter.original, keep), limits.maxMessageBytes, letter.origin);
  const reason = letter.code === 'oversized' ? letter.reason : `${bounded.reason}; refused first as ${letter.code}: ${letter.reason}`;
  return { ...bounded, reason, at: letter.at };
}

/** The dead-letter topic's record of a letter (already bounded): keyed by its stable id (deadLetterKey). */
export function deadLetterRecord(topic: string, letter: DeadLetter): OutgoingMessage {
  const headers: MessageHeader[] = [
    { [DEAD_LETTER_HEADERS.stage]: letter.stage },
    { [DEAD_LETTER_HEADERS.code]: letter.code },
    { [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, MAX_REASON) },
    { [DEAD_LETTER_HEADERS.at]: new Date(letter.at).toISOString() },
  ];
  if (letter.origin !== undefined) headers.push({ [DEAD_LETTER_HEADERS.origin]: letter.origin.slice(0, MAX_REASON) });
  if (letter.truncated) {
    headers.push({ [DEAD_LETTER_HEADERS.length]: String(letter.truncated.length) }, { [DEAD_LETTER_HEADERS.sha256]: letter.truncated.sha256 });
  }
  return { topic, key: deadLetterKey(letter), value: Buffer.from(letter.original), headers };
}

/**
 * Refused messages to the dead-letter topic: original bytes as the value (bounded by
 * limits.maxMessageBytes, see boundedDeadLetter), the reason in headers, keyed by the letter's
 * stable id (deadLetterKey: the same refusal of the same input has the same key on every run, so
 * consumers dedupe by key and a compacted topic keeps one). Resolves when the broker acked them.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  readonly #limits: Limits;

  constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    private readonly ownsProducer = false,
    limits?: Limits,
  ) {
    this.#limits = limits ?? producer.limits;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send(letters.map((l) => deadLetterRecord(this.topic, boundedDeadLetter(l, this.#limits))));
  }

  async close(): Promise<void> {
    if (this.ownsProducer) await this.producer.close();
  }
}
