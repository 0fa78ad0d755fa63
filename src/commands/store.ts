import { Command } from 'commander';
import { runStore } from '../roles/store.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';
import { KAFKA_FLAG } from './kafka-flags.js';
import { formatRoleSummary } from '../roles/summary.js';

const FLAGS = [FLAG.sink, FLAG.db, FLAG.port, KAFKA_FLAG.brokers];

export function storeCommand(): Command {
  const command = new Command('store')
    .description('role: consume scored posts from Kafka into the store (SQLite by default: run one replica; InfluxDB: several)');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    // Runs until SIGTERM/SIGINT; after the drain, one summary line on stdout and exit 0.
    const s = await runStore(config);
    process.stdout.write(`${formatRoleSummary('store', `stored in ${s.store}`, s)}\n`);
    // librdkafka's handles keep the event loop alive: exit once the summary is out. A failure is
    // thrown to src/cli.ts (one line, the exit status of its code).
    process.exit(0);
  });
  return command;
}
