import { Command } from 'commander';
import { configKeys } from '../config/load.js';
import { configFrom } from './config-options.js';

/** Keys whose values are never printed. */
const SECRET = /token|password|secret/i;

export function configCommand(): Command {
  const command = new Command('config').description(
    "print the effective configuration (defaults < --config file < CROWDPULSE_* env), with each key's environment variable",
  );
  command.action(() => {
    const config = configFrom(command, []) as unknown as Record<string, Record<string, unknown>>;
    for (const { section, key, env } of configKeys()) {
      const value = config[section]?.[key];
      const shown = SECRET.test(key) ? (value ? '(set)' : '(unset)') : JSON.stringify(value);
      process.stdout.write(`${`${section}.${key}`.padEnd(32)} ${env.padEnd(40)} ${shown}\n`);
    }
  });
  return command;
}
