import { Command } from 'commander';
import { runAnalyze } from '../roles/analyze.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';
import { KAFKA_FLAG } from './kafka-flags.js';
import { formatRoleSummary } from '../roles/summary.js';

const FLAGS = [FLAG.model, FLAG.threads, FLAG.maxBatch, FLAG.port, KAFKA_FLAG.brokers, KAFKA_FLAG.encoding, KAFKA_FLAG.compression];

export function analyzeCommand(): Command {
  const command = new Command('analyze')
    .description('role: consume raw posts from Kafka (consumer group; run several replicas), score them, produce scored posts');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    // Runs until SIGTERM/SIGINT; after the drain, one summary line on stdout and exit 0.
    const s = await runAnalyze(config);
    process.stdout.write(`${formatRoleSummary('analyze', `scored to ${s.topic}`, s)}\n`);
    // librdkafka's handles keep the event loop alive: exit once the summary is out. A failure is
    // thrown to src/cli.ts (one line, the exit status of its code).
    process.exit(0);
  });
  return command;
}
