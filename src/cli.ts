import { Command, CommanderError } from 'commander';
import { analyzeCommand } from './commands/analyze.js';
import { configCommand } from './commands/config.js';
import { dashboardCommand } from './commands/dashboard.js';
import { emulateCommand } from './commands/emulate.js';
import { evalCommand } from './commands/eval.js';
import { ingestCommand } from './commands/ingest.js';
import { queryCommand } from './commands/query.js';
import { recordCommand } from './commands/record.js';
import { rulesCommand } from './commands/rules.js';
import { runCommand } from './commands/run.js';
import { storeCommand } from './commands/store.js';
import { ERROR_CODES, errorLine, exitStatus } from './errors.js';
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
program.addCommand(queryCommand());
program.addCommand(rulesCommand());
program.addCommand(recordCommand());
program.addCommand(emulateCommand());
program.addCommand(evalCommand());

// commander's own errors (an unknown flag, a missing argument) are thrown here instead of exiting 1.
const withSubcommands = (c: Command): Command[] => [c, ...c.commands.flatMap(withSubcommands)];
for (const c of withSubcommands(program)) c.exitOverride();

/**
 * The one place a command's error becomes its exit status: commands throw (a CrowdpulseError says
 * its code; anything else is CP_INTERNAL, exit 1), and this prints the one line, e.g.
 * `… ERROR [crowdpulse] replay file x.ndjson does not exist (CP_SOURCE_PATH)`, and exits with the
 * status ERROR_CODES gives the code. It exits rather than setting process.exitCode: a failed role may
 * still hold librdkafka handles or an HTTP port that would keep the process alive.
 */
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander printed its message (and the help) already; --help and --version end here with 0.
    process.exit(e.exitCode === 0 ? 0 : ERROR_CODES.CP_USAGE.exit);
  }
  logger('crowdpulse').error(errorLine(e));
  process.exit(exitStatus(e));
}
