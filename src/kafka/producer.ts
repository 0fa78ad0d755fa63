import type { KafkaConfig } from '../config/sections/kafka.js';
import { CrowdpulseError } from '../errors.js';
import { logger } from '../telemetry/log.js';
import { DEFAULT_LIMITS, producerSettings, type Limits } from './client-config.js';
import { deliveryErrors, produceLatency, producedTotal } from './metrics.js';
import { ERR, Producer, type DeliveryReport, type LibrdKafkaError, type MessageHeader, type RdProducer } from './rdkafka.js';
import { forwardLibrdkafkaLog, KafkaHealthLog, parseStats } from './stats.js';

const log = logger('kafka');

export interface OutgoingMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: MessageHeader[];
}

interface Pending {
  readonly message: OutgoingMessage;
  readonly started: number;
  settle(error: LibrdKafkaError | undefined): void;
}

export class DeliveryError extends CrowdpulseError<'CP_KAFKA_DELIVERY_FAILED'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_KAFKA_DELIVERY_FAILED', message, options);
  }
}

/** A message the producer or the broker refused for good (too large): producing it again cannot help. */
export interface RefusedMessage {
  readonly message: OutgoingMessage;
  readonly error: LibrdKafkaError;
}

/**
 * Errors that no retry can cure; the message is handed back to the caller (e.g. to dead-letter it).
 * produce() throws ERR_MSG_SIZE_TOO_LARGE (code 10) itself; node-rdkafka's delivery reports carry
 * no code (-1), only librdkafka's text ("Broker: Message size too large" → "message size too large").
 */
export const isTooLarge = (e: LibrdKafkaError): boolean => e.code === ERR.ERR_MSG_SIZE_TOO_LARGE || /message size too large/i.test(e.message ?? '');

/** Bytes a record takes on the wire before compression: value, key and headers (names and values). */
export function recordBytes(message: OutgoingMessage): number {
  let n = message.value.length + Buffer.byteLength(message.key, 'utf8');
  for (const h of message.headers) {
    for (const [name, v] of Object.entries(h)) n += Buffer.byteLength(name, 'utf8') + (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);
  }
  return n;
}

/**
 * An idempotent producer (acks=all) whose `send` resolves only when the broker has acknowledged
 * every message of the batch. Failed deliveries are produced again, up to `deliveryRetries` rounds
 * (a duplicate on the topic is harmless: consumers and sinks are idempotent per post id).
 */
export class KafkaProducer {
  readonly #producer: RdProducer;
  #brokerUp = false;
  #closed = false;
  #lastErrorLog = 0;
  readonly #health: KafkaHealthLog;

  private constructor(
    private readonly config: KafkaConfig,
    role: string,
    readonly limits: Limits,
  ) {
    this.#producer = new Producer(producerSettings(config, role, limits));
    this.#health = new KafkaHealthLog(`${role} producer`, log, false);
    this.#producer.on('delivery-report', (error: LibrdKafkaError, report: DeliveryReport) => {
      (report.opaque as Pending | undefined)?.settle(error ?? undefined);
    });
    this.#producer.on('event.stats', (event: { message: string }) => {
      const stats = parseStats(event.message);
      if (!stats) return;
      this.#brokerUp = stats.brokerUp;
      this.#health.update(stats);
    });
    this.#producer.on('event.error', (e: LibrdKafkaError) => this.#logError(e));
    if (config.debug !== '') forwardLibrdkafkaLog(this.#producer, `${role} producer`);
  }

  /**
   * Connects (retrying until `timeoutMs` passes) and starts polling for delivery reports.
   * `limits` sets message.max.bytes (limits.maxMessageBytes plus room for headers); sinks read it back.
   */
  static async connect(config: KafkaConfig, role: string, limits: Limits = DEFAULT_LIMITS, timeoutMs = 60000): Promise<KafkaProducer> {
    const p = new KafkaProducer(config, role, limits);
    await connectClient((cb) => p.#producer.connect({ timeout: 5000 }, cb), timeoutMs, `producer to ${config.brokers}`);
    p.#producer.setPollInterval(10);
    p.#brokerUp = true;
    return p;
  }

  /** True while a broker is reachable (refreshed from librdkafka statistics). */
  get brokerUp(): boolean {
    return this.#brokerUp && !this.#closed;
  }

  /** Resolves when every message is acknowledged by the broker; rejects after the retry rounds are spent, or when one is refused as too large. */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const refused = await this.deliver(messages);
    const first = refused[0];
    if (first)
      throw new DeliveryError(
        `${refused.length} of ${messages.length} messages to ${first.message.topic} refused: ${first.error.message} (code ${first.error.code}, ${recordBytes(first.message)} bytes)`,
      );
  }

  /**
   * Like `send`, except that messages refused for good (ERR_MSG_SIZE_TOO_LARGE, by librdkafka or the
   * broker) do not fail the call: they are returned, and the caller decides (dead-letters them).
   * The broker refuses a whole record batch, so each refused message is first produced again
   * alone, one after the other: only those refused again on their own are returned.
   * Resolves when every other message is acknowledged; rejects after the retry rounds are spent.
   */
  async deliver(messages: readonly OutgoingMessage[]): Promise<RefusedMessage[]> {
    const refused = await this.#deliverRounds(messages);
    if (refused.length === 0) return refused;
    log.warn('messages refused as too large; producing each alone once more', {
      count: refused.length,
      topic: refused[0]?.message.topic,
      error: refused[0]?.error.message,
    });
    const alone: RefusedMessage[] = [];
    for (const r of refused) alone.push(...(await this.#deliverRounds([r.message])));
    return alone;
  }

  async #deliverRounds(messages: readonly OutgoingMessage[]): Promise<RefusedMessage[]> {
    const refused: RefusedMessage[] = [];
    let todo = messages;
    for (let round = 0; todo.length > 0; round++) {
      const failed: RefusedMessage[] = [];
      for (const f of await this.#sendOnce(todo)) (isTooLarge(f.error) ? refused : failed).push(f);
      if (failed.length === 0) return refused;
      const first = failed[0] as RefusedMessage;
      if (round >= this.config.deliveryRetries || first.error.code === ERR.ERR__FATAL) {
        throw new DeliveryError(
          `${failed.length} of ${todo.length} messages to ${first.message.topic} not delivered after ${round + 1} round(s): ${first.error.message}`,
        );
      }
      log.warn('delivery failed, producing again', { failed: failed.length, topic: first.message.topic, error: first.error.message, round: round + 1 });
      todo = failed.map((f) => f.message);
    }
    return refused;
  }

  async #sendOnce(messages: readonly OutgoingMessage[]): Promise<{ message: OutgoingMessage; error: LibrdKafkaError }[]> {
    const failed: { message: OutgoingMessage; error: LibrdKafkaError }[] = [];
    const reports: Promise<void>[] = [];
    for (const message of messages) {
      reports.push(
        new Promise<void>((resolve) => {
          const pending: Pending = {
            message,
            started: performance.now(),
            settle: (error) => {
              if (error) {
                deliveryErrors.inc({ topic: message.topic, code: String(error.code) });
                failed.push({ message, error });
              } else {
                produceLatency.observe({ topic: message.topic }, (performance.now() - pending.started) / 1000);
                producedTotal.inc({ topic: message.topic });
              }
              resolve();
            },
          };
          this.#enqueue(pending).catch((e: unknown) => {
            pending.settle(e as LibrdKafkaError);
          });
        }),
      );
    }
    await Promise.all(reports);
    return failed;
  }

  /** produce(), waiting while librdkafka's local queue is full. */
  async #enqueue(pending: Pending): Promise<void> {
    const { topic, key, value, headers } = pending.message;
    for (;;) {
      try {
        this.#producer.produce(topic, null, value, key, Date.now(), pending, headers);
        return;
      } catch (e) {
        const code = (e as LibrdKafkaError).code;
        if (code !== ERR.ERR__QUEUE_FULL || this.#closed) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  #logError(e: LibrdKafkaError): void {
    const now = Date.now();
    if (now - this.#lastErrorLog < 5000) return;
    this.#lastErrorLog = now;
    log.warn('producer error (librdkafka retries by itself)', { error: e.message, code: e.code });
  }

  /** Waits for what is queued (bounded), then disconnects. */
  async close(timeoutMs = 10000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => this.#producer.flush(timeoutMs, () => resolve()));
    this.#producer.setPollInterval(0);
    await new Promise<void>((resolve) => this.#producer.disconnect(timeoutMs, () => resolve()));
  }
}

/** Calls a node-rdkafka connect until it succeeds or `timeoutMs` passes. */
export async function connectClient(connect: (cb: (e: LibrdKafkaError | null | undefined) => void) => void, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let attempt = 0;
  for (;;) {
    attempt++;
    const error = await new Promise<LibrdKafkaError | null | undefined>((resolve) => connect(resolve));
    if (!error) return;
    if (Date.now() >= deadline) throw new CrowdpulseError('CP_KAFKA_CONNECT', `kafka ${what}: could not connect after ${attempt} attempts: ${error.message}`);
    log.warn('kafka connect failed, retrying', { what, attempt, error: error.message });
    await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
  }
}
