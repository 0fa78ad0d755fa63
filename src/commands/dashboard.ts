import { Command } from 'commander';
import { dashboardRoutes, DASHBOARD_PATH, lazyQuery, readRulesFile } from '../dashboard/index.js';
import { readAccessToken } from '../telemetry/http-access.js';
import { CrowdpulseError } from '../errors.js';
import { buildQuery } from '../roles/components.js';
import { onShutdownSignal, startRoleHttp } from '../roles/lifecycle.js';
import { registerReadiness } from '../telemetry/health.js';
import { logger } from '../telemetry/log.js';
import { addConfigFlags, configFrom, FLAG } from './config-options.js';

const FLAGS = [FLAG.sink, FLAG.db, FLAG.port];
const log = logger('dashboard');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `crowdpulse dashboard`: the web page alone, over the configured store (SQLite or InfluxDB), until SIGTERM. */
export function dashboardCommand(): Command {
  const command = new Command('dashboard')
    .description('serve the live dashboard (per-topic sentiment, label shares, rules, pipeline health) over the stored sentiment')
    .option('--metrics-url <url>', "a role's /metrics URL to show pipeline health from (repeatable)", collect, [])
    .option('--rules <file>', 'rules file (YAML list of {value, tag}) to show on the page')
    .option('--title <text>', 'page title', 'crowdpulse')
    .option('--refresh <seconds>', 'how often the page polls', '5');
  addConfigFlags(command, FLAGS);
  command.action(async () => {
    const config = configFrom(command, FLAGS);
    const options = command.opts<{ metricsUrl: string[]; rules?: string; title: string; refresh: string }>();
    const refreshSeconds = Number(options.refresh);
    if (!Number.isFinite(refreshSeconds) || refreshSeconds < 1)
      throw new CrowdpulseError('CP_USAGE', `--refresh must be a number of seconds >= 1, got "${options.refresh}"`);
    const rulesPath = options.rules;
    const query = lazyQuery(() => buildQuery(config));
    const http = await startRoleHttp(
      'dashboard',
      config,
      dashboardRoutes(query, {
        title: options.title,
        refreshSeconds,
        metricsUrls: options.metricsUrl,
        metricsToken: readAccessToken(process.env, config.http.tokenFile),
        ...(rulesPath ? { rules: async () => (await readRulesFile(rulesPath)).rules } : {}),
      }),
    );
    if (!http) throw new CrowdpulseError('CP_USAGE', 'http.enabled is false: the dashboard needs its HTTP port');
    registerReadiness('store', async () => {
      await query.topics({ from: new Date() });
      return true;
    });
    log.info(`dashboard on ${http.url}${DASHBOARD_PATH}`);
    await new Promise<void>((resolve) => onShutdownSignal(() => resolve()));
    await http.close();
    await query.close();
  });
  return command;
}
