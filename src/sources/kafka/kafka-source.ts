import type { KafkaConfig } from '../../config/sections/kafka.js';
import { deadLetter, type DeadLetter, type Stage } from '../../contract/index.js';
import type { Batch, DeadLetterSink, Source } from '../../pipeline/component.js';
import { consumerSettings } from '../../kafka/client-config.js';
import type { WireCodec } from '../../kafka/codec.js';
import { assignedPartitions, commitsTotal, consumedTotal, consumerLag, inFlightMessages, pausedPartitions, rebalances } from '../../kafka/metrics.js';
import { PartitionTracker } from '../../kafka/offset-tracker.js';
import { connectClient } from '../../kafka/producer.js';
import {
  ERR,
  KafkaConsumer,
  type LibrdKafkaError,
  type Message,
  type RdConsumer,
  type TopicPartition,
  type TopicPartitionOffset,
} from '../../kafka/rdkafka.js';
import { forwardLibrdkafkaLog, KafkaHealthLog, parseStats } from '../../kafka/stats.js';
import { logger } from '../../telemetry/log.js';

const log = logger('kafka');
const EMPTY = Buffer.alloc(0);

export interface KafkaSourceOptions<T> {
  readonly config: KafkaConfig;
  /** Role name, for client ids and logs. */
  readonly role: string;
  readonly group: string;
  readonly topic: string;
  readonly codec: WireCodec<T>;
  /** Messages that cannot be decoded go here (with topic/partition@offset as origin), then count as done. */
  readonly deadLetters: DeadLetterSink;
  readonly stage: Stage;
  /** Messages (decoded or dead-lettered) after which the source ends (--limit, pipeline.limit); 0 = none. */
  readonly limit?: number;
}

const keyOf = (topic: string, partition: number): string => `${topic}/${partition}`;

/**
 * A consumer-group member as a pipeline Source. At-least-once: a message's offset is committed only
 * after the batch holding it is acked (its output durable); acks may come out of order, and per
 * partition the highest contiguous acked offset is committed. Bounded: with `maxInFlight` un-acked
 * messages it pauses its partitions and resumes at half. Rebalances: revoked partitions commit what
 * is acked and forget the rest (another member reads it again). No commit is attempted while the
 * group coordinator is unreachable: a lost assignment (session timed out in a broker outage) is
 * dropped without one, and periodic commits wait for the coordinator (see #canCommit).
 */
export class KafkaSource<T> implements Source<T> {
  readonly name: string;
  readonly #consumer: RdConsumer;
  readonly #trackers = new Map<string, PartitionTracker>();
  #inFlight = 0;
  #paused = false;
  #commitTimer: NodeJS.Timeout | undefined;
  #brokerUp = false;
  #groupJoined = false;
  /** The group coordinator's connection, from the latest statistics (undefined before the first). */
  #coordinatorUp: boolean | undefined;
  readonly #health: KafkaHealthLog;
  #lagLabels = new Set<string>();
  #closed = false;
  #lastErrorLog = 0;
  #read = 0;

  private constructor(private readonly options: KafkaSourceOptions<T>) {
    this.name = `kafka:${options.topic}`;
    const { config, role, group } = options;
    this.#health = new KafkaHealthLog(`${role} consumer of ${options.topic}`, log, true);
    this.#consumer = new KafkaConsumer(
      {
        ...consumerSettings(config, role, group),
        rebalance_cb: (e: LibrdKafkaError, assignment: TopicPartition[]) => this.#onRebalance(e, assignment),
        offset_commit_cb: (e: LibrdKafkaError | undefined, offsets: TopicPartitionOffset[]) => this.#onCommitted(e, offsets),
      },
      { 'auto.offset.reset': 'earliest' },
    );
    this.#consumer.on('event.stats', (event: { message: string }) => this.#onStats(event.message));
    this.#consumer.on('event.error', (e: LibrdKafkaError) => this.#logError('consumer error (librdkafka retries by itself)', e));
    if (config.debug !== '') forwardLibrdkafkaLog(this.#consumer, `${role} consumer of ${options.topic}`);
  }

  static async connect<T>(options: KafkaSourceOptions<T>, timeoutMs = 60000): Promise<KafkaSource<T>> {
    const source = new KafkaSource(options);
    await connectClient((cb) => source.#consumer.connect({ timeout: 5000 }, cb), timeoutMs, `consumer to ${options.config.brokers}`);
    source.#consumer.setDefaultConsumeTimeout(options.config.consumeWaitMs);
    source.#consumer.subscribe([options.topic]);
    source.#commitTimer = setInterval(() => source.#commitAsync(), options.config.commitIntervalMs);
    source.#commitTimer.unref();
    log.info('consumer subscribed', { group: options.group, topic: options.topic, brokers: options.config.brokers });
    return source;
  }

  /** Broker reachable and this member has joined its group (from librdkafka statistics). */
  get ready(): boolean {
    return !this.#closed && this.#brokerUp && this.#groupJoined;
  }

  /** Partitions currently assigned to this member. */
  get assignment(): readonly { topic: string; partition: number }[] {
    return [...this.#trackers.values()].map((t) => ({ topic: t.topic, partition: t.partition }));
  }

  /** True while its partitions are paused for backpressure. */
  get paused(): boolean {
    return this.#paused;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async *batches(signal: AbortSignal): AsyncGenerator<Batch<T>> {
    const { maxInFlight, consumeBatchSize } = this.options.config;
    const limit = this.options.limit ?? 0;
    while (!signal.aborted && !this.#closed) {
      // --limit: never fetch past it, and end once it is read (the role then drains and commits).
      const left = limit > 0 ? limit - this.#read : Infinity;
      if (left <= 0) return;
      // Hysteresis: pause at maxInFlight un-acked messages, resume at half.
      if (this.#inFlight >= maxInFlight) this.#setPaused(true);
      else if (this.#inFlight <= maxInFlight / 2) this.#setPaused(false);
      // Poll even while paused: librdkafka serves rebalance and commit callbacks from here, and a
      // member that stops polling for max.poll.interval.ms is thrown out of its group.
      const messages = await this.#consume(this.#paused ? 1 : Math.max(1, Math.min(consumeBatchSize, maxInFlight - this.#inFlight, left)));
      if (messages.length === 0) continue;
      this.#read += messages.length;
      const batch = await this.#toBatch(messages, signal);
      if (batch) yield batch;
    }
  }

  async #toBatch(messages: readonly Message[], signal: AbortSignal): Promise<Batch<T> | undefined> {
    const { codec, stage, group, topic } = { ...this.options, topic: this.options.topic };
    // Writer schemas of registry-framed messages, fetched (and retried) before anything is tracked:
    // on a shutdown meanwhile the batch is dropped unacked, and the group's next owner reads it again.
    await codec.prepare(messages, signal);
    if (signal.aborted) return undefined;
    const items: T[] = [];
    const done: [PartitionTracker, number][] = [];
    const letters: DeadLetter[] = [];
    const lettered: [PartitionTracker, number][] = [];
    for (const m of messages) {
      let tracker = this.#trackers.get(keyOf(m.topic, m.partition));
      // A message of a partition revoked meanwhile: its next owner reads it again.
      if (!tracker) continue;
      if (m.offset <= tracker.lastTracked) {
        // The fetch position went back (a reset or re-assignment): start a new generation, so that
        // acks of the earlier one cannot move the commit point past messages read again now.
        log.warn('offset went backwards; tracking the partition afresh', {
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          last: tracker.lastTracked,
        });
        tracker = new PartitionTracker(m.topic, m.partition);
        this.#trackers.set(keyOf(m.topic, m.partition), tracker);
      }
      tracker.track(m.offset);
      const decoded = codec.decode(m.value, m.headers);
      if (decoded.ok) {
        items.push(decoded.value);
        done.push([tracker, m.offset]);
      } else {
        letters.push(deadLetter(stage, decoded.error.code, decoded.error.reason, m.value ?? EMPTY, `kafka:${m.topic}/${m.partition}@${m.offset}`));
        lettered.push([tracker, m.offset]);
      }
    }
    consumedTotal.inc({ group, topic }, messages.length);
    if (letters.length > 0) {
      log.warn('undecodable messages sent to the dead-letter sink', { count: letters.length, first: letters[0]?.reason });
      await this.options.deadLetters.write(letters);
      for (const [tracker, offset] of lettered) tracker.ack(offset);
    }
    if (items.length === 0) return undefined;
    this.#inFlight += items.length;
    inFlightMessages.set({ group }, this.#inFlight);
    let acked = false;
    return {
      items,
      ack: () => {
        if (acked) return;
        acked = true;
        for (const [tracker, offset] of done) tracker.ack(offset);
        this.#inFlight -= items.length;
        inFlightMessages.set({ group }, this.#inFlight);
      },
    };
  }

  #consume(max: number): Promise<Message[]> {
    return new Promise((resolve) => {
      this.#consumer.consume(max, (e: LibrdKafkaError, messages: Message[]) => {
        if (e) {
          // A subscribed topic that does not exist yet: not fatal, the consumer joins once it is
          // created (seen at the next metadata refresh, kafka.metadataRefreshMs).
          if (e.code === ERR.ERR_UNKNOWN_TOPIC_OR_PART)
            this.#logError(
              `topic ${this.options.topic} does not exist (yet); waiting for it (metadata refreshed every ${this.options.config.metadataRefreshMs} ms)`,
              e,
            );
          else this.#logError('consume failed', e);
          setTimeout(() => resolve([]), 200);
          return;
        }
        resolve(messages ?? []);
      });
    });
  }

  #setPaused(paused: boolean): void {
    if (this.#paused === paused) return;
    const partitions = this.#assignedList();
    try {
      if (paused) this.#consumer.pause(partitions);
      else this.#consumer.resume(partitions);
    } catch (e) {
      this.#logError(`${paused ? 'pause' : 'resume'} failed`, e as LibrdKafkaError);
      return;
    }
    this.#paused = paused;
    pausedPartitions.set({ group: this.options.group }, paused ? partitions.length : 0);
    log.debug(paused ? 'paused partitions: too many messages in flight' : 'resumed partitions', { inFlight: this.#inFlight, partitions: partitions.length });
  }

  #assignedList(): TopicPartition[] {
    return [...this.#trackers.values()].map((t) => ({ topic: t.topic, partition: t.partition }));
  }

  #onRebalance(e: LibrdKafkaError, assignment: TopicPartition[]): void {
    const { group } = this.options;
    const cooperative = this.#consumer.rebalanceProtocol() === 'COOPERATIVE';
    try {
      if (e.code === ERR.ERR__ASSIGN_PARTITIONS) {
        rebalances.inc({ group, kind: 'assign' });
        for (const tp of assignment) this.#trackers.set(keyOf(tp.topic, tp.partition), new PartitionTracker(tp.topic, tp.partition));
        if (cooperative) this.#consumer.incrementalAssign(assignment);
        else this.#consumer.assign(assignment);
        if (this.#paused && assignment.length > 0) this.#consumer.pause(assignment);
        log.info('partitions assigned', { group, partitions: assignment.map((tp) => tp.partition).join(','), total: this.#trackers.size });
      } else if (e.code === ERR.ERR__REVOKE_PARTITIONS) {
        rebalances.inc({ group, kind: 'revoke' });
        if (this.#canCommit()) this.#commitSync(assignment);
        else
          log.warn('partitions lost while the group coordinator is unreachable: not committing (what was acked since the last commit is read again)', {
            group,
            partitions: assignment.map((tp) => tp.partition).join(','),
          });
        for (const tp of assignment) this.#trackers.delete(keyOf(tp.topic, tp.partition));
        if (cooperative) this.#consumer.incrementalUnassign(assignment);
        else this.#consumer.unassign();
        log.info('partitions revoked', { group, partitions: assignment.map((tp) => tp.partition).join(','), total: this.#trackers.size });
      } else {
        this.#logError('rebalance error', e);
      }
    } catch (err) {
      this.#logError('rebalance handling failed', err as LibrdKafkaError);
    }
    assignedPartitions.set({ group }, this.#trackers.size);
    pausedPartitions.set({ group }, this.#paused ? this.#trackers.size : 0);
  }

  #pendingCommits(only?: readonly TopicPartition[]): TopicPartitionOffset[] {
    const trackers = only ? only.map((tp) => this.#trackers.get(keyOf(tp.topic, tp.partition))) : [...this.#trackers.values()];
    const out: TopicPartitionOffset[] = [];
    for (const t of trackers) {
      const offset = t?.pendingCommit;
      if (t && offset !== undefined) out.push({ topic: t.topic, partition: t.partition, offset });
    }
    return out;
  }

  /**
   * Whether a commit can reach the group coordinator, by the latest statistics (true before the
   * first). A commit while it is unreachable cannot succeed: librdkafka queues it until the
   * coordinator is back (and the group's generation has moved on), and a synchronous one blocks
   * the event loop meanwhile (7 s in the broker-outage test, in the rebalance callback, overlapping
   * the group's rejoin). Acked offsets wait and are committed once it is back.
   */
  #canCommit(): boolean {
    return this.#coordinatorUp !== false;
  }

  #commitAsync(): void {
    const offsets = this.#pendingCommits();
    if (offsets.length === 0 || this.#closed || !this.#canCommit()) return;
    try {
      this.#consumer.commit(offsets);
    } catch (e) {
      commitsTotal.inc({ group: this.options.group, result: 'error' });
      this.#logError('commit failed (retried at the next interval)', e as LibrdKafkaError);
    }
  }

  /** Blocking commit, for revocation and shutdown: after it, the next owner starts past what we acked. */
  #commitSync(only?: readonly TopicPartition[]): void {
    const offsets = this.#pendingCommits(only);
    if (offsets.length === 0) return;
    try {
      this.#consumer.commitSync(offsets);
      this.#markCommitted(offsets);
      commitsTotal.inc({ group: this.options.group, result: 'ok' });
    } catch (e) {
      commitsTotal.inc({ group: this.options.group, result: 'error' });
      this.#logError('synchronous commit failed; those messages will be read again', e as LibrdKafkaError);
    }
  }

  #onCommitted(e: LibrdKafkaError | undefined, offsets: TopicPartitionOffset[]): void {
    if (e && e.code !== ERR.ERR__NO_OFFSET) {
      commitsTotal.inc({ group: this.options.group, result: 'error' });
      this.#logError('commit failed (retried at the next interval)', e);
      return;
    }
    commitsTotal.inc({ group: this.options.group, result: 'ok' });
    this.#markCommitted(offsets.filter((o) => !(o as { error?: unknown }).error));
  }

  #markCommitted(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const t = this.#trackers.get(keyOf(o.topic, o.partition));
      if (t && o.offset >= 0 && (t.committed === undefined || o.offset > t.committed)) t.committed = o.offset;
    }
  }

  #onStats(json: string): void {
    const stats = parseStats(json);
    if (!stats) return;
    this.#brokerUp = stats.brokerUp;
    this.#groupJoined = stats.groupJoined;
    this.#coordinatorUp = stats.coordinatorUp;
    this.#health.update(stats);
    const seen = new Set<string>();
    for (const { topic, partition, lag } of stats.lag) {
      if (!this.#trackers.has(keyOf(topic, partition))) continue;
      const labels = { group: this.options.group, topic, partition: String(partition) };
      consumerLag.set(labels, lag);
      seen.add(JSON.stringify(labels));
    }
    for (const key of this.#lagLabels) if (!seen.has(key)) consumerLag.remove(JSON.parse(key) as Record<string, string>);
    this.#lagLabels = seen;
  }

  #logError(what: string, e: LibrdKafkaError | Error): void {
    const now = Date.now();
    if (now - this.#lastErrorLog < 5000) return;
    this.#lastErrorLog = now;
    log.warn(what, { group: this.options.group, error: e.message, code: (e as LibrdKafkaError).code });
  }

  /**
   * Waits (bounded by kafka.drainTimeoutMs) for in-flight batches to be acked, commits what is
   * acked, and leaves the group. What is still in flight after the bound is read again by the next owner.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const deadline = Date.now() + this.options.config.drainTimeoutMs;
    while (this.#inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (this.#inFlight > 0) log.warn('closing with messages still in flight; they will be read again', { inFlight: this.#inFlight });
    if (this.#canCommit()) this.#commitSync();
    else
      log.warn('closing while the group coordinator is unreachable: not committing (what was acked since the last commit is read again)', {
        group: this.options.group,
      });
    this.#closed = true;
    if (this.#commitTimer) clearInterval(this.#commitTimer);
    await new Promise<void>((resolve) => this.#consumer.disconnect(() => resolve()));
    assignedPartitions.set({ group: this.options.group }, 0);
    pausedPartitions.set({ group: this.options.group }, 0);
    log.info('consumer left the group', { group: this.options.group });
  }
}
