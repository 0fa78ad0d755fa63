import { Command } from 'commander';
import { analyzeCommand } from './commands/analyze.js';
import { configCommand } from './commands/config.js';
import { dashboardCommand } from './commands/dashboard.js';
import { emulateCommand } from './commands/emulate.js';
import { evalCommand } from './commands/eval.js';
import { ingestCommand } from './commands/ingest.js';
import { recordCommand } from './commands/record.js';
import { rulesCommand } from './commands/rules.js';
import { runCommand } from './commands/run.js';
import { storeCommand } from './commands/store.js';
import { logger } from './telemetry/log.js';

/**
 * crowdpulse: one deployable, role-flagged. Commands are listed here explicitly, one line each.
 */
const program = new Command('crowdpulse')
  .description('Real-time public mood per topic: X API v2 filtered stream → ONNX sentiment → per-topic sentiment over time')
  .option('-c, --config <file>', 'config file (YAML or JSON); env CROWDPULSE_<SECTION>_<KEY> and flags override it')
  .showHelpAfterError();

program.addCommand(runCommand());
program.addCommand(configCommand());
program.addCommand(ingestCommand());
program.addCommand(analyzeCommand());
program.addCommand(storeCommand());
program.addCommand(dashboardCommand());
program.addCommand(rulesCommand());
program.addCommand(recordCommand());
program.addCommand(emulateCommand());
program.addCommand(evalCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  logger('crowdpulse').error((e as Error).message);
  process.exitCode = 1;
}
