import type { Command } from 'commander';
import { runStore } from '../roles/store.js';
import { FLAG } from './config-options.js';
import { KAFKA_FLAG } from './kafka-flags.js';
import { kafkaRoleCommand } from './role-command.js';

export const storeCommand = (): Command =>
  kafkaRoleCommand({
    name: 'store',
    description: 'role: consume scored posts from Kafka into the store (SQLite by default: run one replica; InfluxDB: several)',
    flags: [FLAG.sink, FLAG.db, FLAG.port, FLAG.limit, KAFKA_FLAG.brokers],
    run: runStore,
    did: (s) => `stored in ${s.store}`,
  });
