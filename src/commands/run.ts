import { Command } from 'commander';
import { runAllInOne } from '../roles/run.js';
import { formatSummary } from '../roles/summary.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';
import { countLines } from './count-lines.js';

const FLAGS = [FLAG.input, FLAG.mode, FLAG.rate, FLAG.speed, FLAG.limit, FLAG.source, FLAG.model, FLAG.threads, FLAG.maxBatch, FLAG.sink, FLAG.db, FLAG.port, FLAG.progress];

export function runCommand(): Command {
  const command = new Command('run')
    .description('run every role in one process (embedded default: replay → analyze → SQLite) and print a summary');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    const expected = config.source.kind === 'replay' ? await countLines(config.replay.path, config.replay.limit) : undefined;
    const summary = await runAllInOne(config, expected === undefined ? {} : { expectedPosts: expected });
    process.stdout.write(formatSummary(summary));
  });
  return command;
}
