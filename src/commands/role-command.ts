import { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { formatRoleSummary, type RoleSummary } from '../roles/summary.js';
import { addConfigFlags, configFrom, type ConfigFlag } from './config-options.js';

export interface KafkaRoleCommand<S extends RoleSummary> {
  readonly name: 'ingest' | 'analyze' | 'store';
  readonly description: string;
  readonly flags: readonly ConfigFlag[];
  run(config: Config): Promise<S>;
  /** What the summary line says the role did with its posts, e.g. "scored to crowdpulse.posts.scored". */
  did(summary: S): string;
}

/**
 * A Kafka role as a command: runs until its source ends or SIGTERM/SIGINT, then prints one summary
 * line on stdout and exits 0. librdkafka's handles keep the event loop alive, hence the explicit
 * exit; a failure is thrown to src/cli.ts (one line, the exit status of its code).
 */
export function kafkaRoleCommand<S extends RoleSummary>(role: KafkaRoleCommand<S>): Command {
  const command = new Command(role.name).description(role.description);
  addConfigFlags(command, role.flags);
  command.action(async () => {
    const summary = await role.run(configFrom(command, role.flags));
    process.stdout.write(`${formatRoleSummary(role.name, role.did(summary), summary)}\n`);
    process.exit(0);
  });
  return command;
}
