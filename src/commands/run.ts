import { Command } from 'commander';
import { dashboardRoutes, lazyQuery } from '../dashboard/index.js';
import { buildIngestRoutes, buildQuery } from '../roles/components.js';
import { framerLimits } from '../sources/line-framer.js';
import { runAllInOne } from '../roles/run.js';
import { formatSummary } from '../roles/summary.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';
import { countLines } from './count-lines.js';

const FLAGS = [
  FLAG.input,
  FLAG.mode,
  FLAG.rate,
  FLAG.speed,
  FLAG.limit,
  FLAG.source,
  FLAG.model,
  FLAG.threads,
  FLAG.maxBatch,
  FLAG.sink,
  FLAG.db,
  FLAG.port,
  FLAG.progress,
];

export function runCommand(): Command {
  const command = new Command('run').description('run every role in one process (embedded default: replay → analyze → SQLite) and print a summary');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    // The progress display's total: a pass over the whole file, so only when progress is shown.
    const expected =
      config.source.kind === 'replay' && config.log.progress !== 'off'
        ? await countLines(config.replay.path, config.pipeline.limit, framerLimits(config.limits))
        : undefined;
    // The dashboard on the run's HTTP port (/dashboard/), reading the store the run writes.
    const query = lazyQuery(() => buildQuery(config));
    const ingestRoutes = buildIngestRoutes(config);
    if (!ingestRoutes.ok) throw ingestRoutes.error;
    const routes = [dashboardRoutes(query), ...ingestRoutes.value].flat();
    const summary = await runAllInOne(config, expected === undefined ? { routes } : { expectedPosts: expected, routes }).finally(() => query.close());
    process.stdout.write(formatSummary(summary));
  });
  return command;
}
