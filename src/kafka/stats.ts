/**
 * librdkafka statistics (statistics.interval.ms → 'event.stats' JSON) reduced to what crowdpulse
 * reads: broker connectivity, group state, and per-partition consumer lag.
 */
export interface KafkaHealth {
  /** At least one real broker (not the bootstrap placeholder) is UP. */
  readonly brokerUp: boolean;
  /** Consumer group state is "up" and the join is steady (a member with an assignment, possibly empty). */
  readonly groupJoined: boolean;
  readonly lag: readonly { topic: string; partition: number; lag: number }[];
}

interface RawStats {
  brokers?: Record<string, { nodeid?: number; state?: string }>;
  cgrp?: { state?: string; join_state?: string };
  topics?: Record<string, { partitions?: Record<string, { partition?: number; consumer_lag?: number; fetch_state?: string }> }>;
}

export function parseStats(json: string): KafkaHealth | undefined {
  let raw: RawStats;
  try {
    raw = JSON.parse(json) as RawStats;
  } catch {
    return undefined;
  }
  const brokerUp = Object.values(raw.brokers ?? {}).some((b) => (b.nodeid ?? -1) >= 0 && b.state === 'UP');
  const groupJoined = raw.cgrp?.state === 'up' && raw.cgrp.join_state === 'steady';
  const lag: { topic: string; partition: number; lag: number }[] = [];
  for (const [topic, t] of Object.entries(raw.topics ?? {})) {
    for (const p of Object.values(t.partitions ?? {})) {
      // -1 is librdkafka's internal UA partition; lag -1 means unknown (not assigned / nothing committed).
      if (p.partition === undefined || p.partition < 0 || p.fetch_state === 'none') continue;
      if (p.consumer_lag !== undefined && p.consumer_lag >= 0) lag.push({ topic, partition: p.partition, lag: p.consumer_lag });
    }
  }
  return { brokerUp, groupJoined, lag };
}
