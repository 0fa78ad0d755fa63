/**
 * librdkafka statistics (statistics.interval.ms → 'event.stats' JSON) reduced to what crowdpulse
 * reads: broker connectivity, group and coordinator state, and per-partition consumer lag; and
 * librdkafka's own debug lines (kafka.debug) forwarded to the log.
 */
import { logger, type Logger } from '../telemetry/log.js';

export interface KafkaHealth {
  /** At least one real broker (not the bootstrap placeholder) is UP. */
  readonly brokerUp: boolean;
  /** Each known broker as "name=STATE" (librdkafka's names and states), for logs. */
  readonly brokerStates: string;
  /** Consumer group state is "up" and the join is steady (a member with an assignment, possibly empty). */
  readonly groupJoined: boolean;
  /**
   * A consumer's connection to its group coordinator is UP (librdkafka's logical "GroupCoordinator"
   * broker); undefined when the statistics name none (a producer, or a consumer before it found one).
   */
  readonly coordinatorUp: boolean | undefined;
  readonly lag: readonly { topic: string; partition: number; lag: number }[];
}

interface RawStats {
  brokers?: Record<string, { name?: string; nodeid?: number; state?: string }>;
  cgrp?: { state?: string; join_state?: string };
  topics?: Record<
    string,
    { partitions?: Record<string, { partition?: number; hi_offset?: number; lo_offset?: number; committed_offset?: number; fetch_state?: string }> }
  >;
}

export function parseStats(json: string): KafkaHealth | undefined {
  let raw: RawStats;
  try {
    raw = JSON.parse(json) as RawStats;
  } catch {
    return undefined;
  }
  const brokers = Object.entries(raw.brokers ?? {});
  const brokerUp = brokers.some(([, b]) => (b.nodeid ?? -1) >= 0 && b.state === 'UP');
  const brokerStates = brokers.map(([key, b]) => `${b.name ?? key}=${b.state ?? '?'}`).join(' ');
  const groupJoined = raw.cgrp?.state === 'up' && raw.cgrp.join_state === 'steady';
  const coordinator = brokers.find(([key, b]) => (b.name ?? key) === 'GroupCoordinator')?.[1];
  const coordinatorUp = coordinator ? coordinator.state === 'UP' : undefined;
  const lag: { topic: string; partition: number; lag: number }[] = [];
  for (const [topic, t] of Object.entries(raw.topics ?? {})) {
    for (const p of Object.values(t.partitions ?? {})) {
      // -1 is librdkafka's internal UA partition; lag -1 means unknown (not assigned / nothing committed).
      if (p.partition === undefined || p.partition < 0 || p.fetch_state === 'none' || p.fetch_state === 'stopped') continue;
      // librdkafka's own consumer_lag is -1 until the group has committed; from the log start then.
      const hi = p.hi_offset ?? -1;
      const from = (p.committed_offset ?? -1) >= 0 ? (p.committed_offset as number) : (p.lo_offset ?? -1);
      if (hi >= 0 && from >= 0) lag.push({ topic, partition: p.partition, lag: Math.max(0, hi - from) });
    }
  }
  return { brokerUp, brokerStates, groupJoined, coordinatorUp, lag };
}

/**
 * Logs when a client's connection to the brokers, and a consumer's group membership, change
 * (as its statistics report them): once per change, so an outage and its end are in the log.
 */
export class KafkaHealthLog {
  #brokerUp: boolean | undefined;
  #groupJoined: boolean | undefined;

  /** `consumer`: the client belongs to a group, whose membership is logged too (a producer has none). */
  constructor(
    private readonly client: string,
    private readonly log: Logger,
    private readonly consumer: boolean,
  ) {}

  update(health: KafkaHealth): void {
    const fields = { client: this.client, brokers: health.brokerStates };
    if (this.#brokerUp !== undefined && health.brokerUp !== this.#brokerUp) {
      if (health.brokerUp) this.log.info('broker reachable again', fields);
      else this.log.warn('no broker reachable (librdkafka reconnects by itself)', fields);
    }
    this.#brokerUp = health.brokerUp;
    if (!this.consumer) return;
    if (this.#groupJoined !== undefined && health.groupJoined !== this.#groupJoined) {
      if (health.groupJoined) this.log.info('consumer group joined again', fields);
      else this.log.warn('consumer group membership lost (rejoining)', fields);
    }
    this.#groupJoined = health.groupJoined;
  }
}

/** A node-rdkafka client's 'event.log' payload (emitted when librdkafka's `debug` is set). */
export interface LibrdkafkaLogLine {
  readonly severity?: number;
  readonly fac?: string;
  readonly message?: string;
}

/**
 * Forwards librdkafka's own log lines (kafka.debug contexts) to crowdpulse's log, at info level,
 * scope kafka.librdkafka, named by client. Without kafka.debug librdkafka emits none.
 */
export function forwardLibrdkafkaLog(
  client: { on(event: 'event.log', listener: (line: LibrdkafkaLogLine) => void): unknown },
  name: string,
  log: Logger = logger('kafka.librdkafka'),
): void {
  client.on('event.log', (line) => log.info(line.message ?? '', { client: name, fac: line.fac ?? '', severity: line.severity ?? -1 }));
}
