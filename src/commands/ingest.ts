import { Command } from 'commander';
import { runIngest } from '../roles/ingest.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';
import { KAFKA_FLAG } from './kafka-flags.js';
import { formatRoleSummary } from '../roles/summary.js';

const FLAGS = [FLAG.input, FLAG.mode, FLAG.rate, FLAG.speed, FLAG.limit, FLAG.source, FLAG.port, KAFKA_FLAG.brokers, KAFKA_FLAG.encoding, KAFKA_FLAG.compression];

export function ingestCommand(): Command {
  const command = new Command('ingest')
    .description('role: read posts (replay or the X stream), validate them, and produce them to the Kafka raw-posts topic');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    const s = await runIngest(config);
    // e.g. "ingest: 300 posts produced to crowdpulse.posts.raw, 2 dead letters (oversized: 2), 1.20 s"
    process.stdout.write(`${formatRoleSummary('ingest', `produced to ${s.topic}`, s)}\n`);
    // librdkafka's handles keep the event loop alive: exit once the summary is out. A failure is
    // thrown to src/cli.ts (one line, the exit status of its code).
    process.exit(0);
  });
  return command;
}
