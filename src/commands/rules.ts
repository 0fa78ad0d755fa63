import { Command } from 'commander';
import { commandCall, commandClient } from './x-support.js';
import { listRules, loadRulesFile, syncRules, validateRules } from '../x/rules.js';
import { configFrom } from './config-options.js';

const FILE_OPTION = ['-f, --file <rules.yaml>', 'rules file (default: x.rulesFile)'] as const;

export function rulesCommand(): Command {
  const command = new Command('rules').description("the filtered stream's rules as code: a YAML file of {value, tag}; the tag becomes the topic");

  command
    .command('list')
    .description('print the rules X has now (id, tag, value)')
    .action(async (_o, sub: Command) => {
      const config = configFrom(sub, []);
      const client = commandClient(config.x);
      const rules = await commandCall('rules list', () => listRules(client));
      for (const r of rules) process.stdout.write(`${r.id}\t${r.tag ?? '-'}\t${r.value}\n`);
      if (rules.length === 0) process.stderr.write('no rules: the stream delivers nothing\n');
    });

  command
    .command('validate')
    .description('check the rules file locally, then with X (dry_run: nothing changes)')
    .option(...FILE_OPTION)
    .action(async (o: { file?: string }, sub: Command) => {
      const config = configFrom(sub, []);
      const file = o.file ?? config.x.rulesFile;
      const desired = loadRulesFile(file);
      if (!desired.ok) throw desired.error;
      const client = commandClient(config.x);
      const r = await commandCall('rules validate', () => validateRules(client, desired.value));
      if (!r.ok) throw r.error;
      process.stdout.write(`${file}: ${desired.value.length} rules valid\n`);
    });

  command
    .command('sync')
    .description("make X's rules equal the file by diff: add the missing, delete the stale, keep the rest (validated first; never deletes every rule)")
    .option(...FILE_OPTION)
    .option('--dry-run', 'show the diff without changing anything')
    .action(async (o: { file?: string; dryRun?: boolean }, sub: Command) => {
      const config = configFrom(sub, []);
      const file = o.file ?? config.x.rulesFile;
      const desired = loadRulesFile(file);
      if (!desired.ok) throw desired.error;
      const client = commandClient(config.x);
      const r = await commandCall('rules sync', () => syncRules(client, desired.value, { dryRun: o.dryRun === true }));
      if (!r.ok) throw r.error;
      const { diff, applied } = r.value;
      for (const a of diff.add) process.stdout.write(`+ ${a.tag}\t${a.value}\n`);
      for (const d of diff.remove) process.stdout.write(`- ${d.tag ?? '-'}\t${d.value}\t(${d.id})\n`);
      process.stdout.write(
        `${applied ? 'synced' : o.dryRun ? 'dry run' : 'already in sync'}: ${diff.add.length} added, ${diff.remove.length} deleted, ${diff.keep.length} kept\n`,
      );
    });
  return command;
}
