import type { Command } from 'commander';
import { runIngest } from '../roles/ingest.js';
import { FLAG } from './config-options.js';
import { KAFKA_FLAG } from './kafka-flags.js';
import { kafkaRoleCommand } from './role-command.js';

// e.g. "ingest: 300 posts produced to crowdpulse.posts.raw, 2 dead letters (oversized: 2), 1.20 s"
export const ingestCommand = (): Command =>
  kafkaRoleCommand({
    name: 'ingest',
    description: 'role: read posts (replay or the X stream), validate them, and produce them to the Kafka raw-posts topic',
    flags: [FLAG.input, FLAG.mode, FLAG.rate, FLAG.speed, FLAG.limit, FLAG.source, FLAG.port, KAFKA_FLAG.brokers, KAFKA_FLAG.encoding, KAFKA_FLAG.compression],
    run: runIngest,
    did: (s) => `produced to ${s.topic}`,
  });
