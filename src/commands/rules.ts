import { Command } from 'commander';
import { commandCall, commandClient } from './x-support.js';
import { listRules, loadRulesDocument, loadRulesFile, RulesError, syncRules, validateRules } from '../x/rules.js';
import { validateRulesFileOffline, type OfflineLimits } from '../x/rules-offline.js';
import { countRules, countsWindow, GRANULARITIES, type Granularity } from '../x/rules-counts.js';
import { planRules } from '../x/rules-plan.js';
import { budgetsYaml, planJson, planTable } from '../x/rules-plan-output.js';
import { writeBudgets } from '../x/rules-budgets-file.js';
import { describeAlreadyLive } from '../x/rules-refusals.js';
import { billingPeriod } from '../x/billing-period.js';
import { fetchUsage } from '../x/usage.js';
import { parseDuration } from '../query/range.js';
import { CrowdpulseError } from '../errors.js';
import type { XConfig } from '../config/sections/x.js';
import { configFrom } from './config-options.js';

const FILE_OPTION = ['-f, --file <rules.yaml>', 'rules file (default: x.rulesFile)'] as const;

const offlineLimits = (x: XConfig): OfflineLimits => ({ maxRules: x.maxRules, maxRuleLength: x.maxRuleLength, monthlyCap: x.monthlyCap });

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
    .description(
      'check the rules file: offline first (shape, syntax, x.maxRuleLength, x.maxRules, duplicates, tags, budgets), then with X (dry_run: nothing changes)',
    )
    .option(...FILE_OPTION)
    .option('--offline', "check without the API only (the syntax check knows a subset of X's rule language)")
    .action(async (o: { file?: string; offline?: boolean }, sub: Command) => {
      const config = configFrom(sub, []);
      const file = o.file ?? config.x.rulesFile;
      const checked = validateRulesFileOffline(file, offlineLimits(config.x), { syntax: o.offline ? 'final' : 'defer-to-x' });
      if (!checked.ok) throw checked.error;
      const { rules } = checked.value.document;
      if (o.offline) {
        process.stdout.write(`${file}: ${rules.length} rules valid (offline)\n`);
        return;
      }
      for (const note of checked.value.notes) process.stderr.write(`note: ${note}\n`);
      const client = commandClient(config.x);
      const r = await commandCall('rules validate', () => validateRules(client, rules));
      if (!r.ok) throw r.error;
      const live = r.value.alreadyLive;
      process.stdout.write(`${file}: ${rules.length} rules valid${live.length > 0 ? ` (${live.length} already live)` : ''}\n`);
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
      const { diff, applied, alreadyLive } = r.value;
      for (const a of diff.add) process.stdout.write(`+ ${a.tag}\t${a.value}\n`);
      for (const d of diff.remove) process.stdout.write(`- ${d.tag ?? '-'}\t${d.value}\t(${d.id})\n`);
      for (const a of alreadyLive) process.stderr.write(`already live (kept): ${describeAlreadyLive(a)}\n`);
      process.stdout.write(
        `${applied ? 'synced' : o.dryRun ? 'dry run' : 'already in sync'}: ${diff.add.length} added, ${diff.remove.length} deleted, ${diff.keep.length} kept\n`,
      );
    });

  command
    .command('plan')
    .description(
      "forecast each rule's and topic's posts over the billing period from X's recent counts (GET /2/tweets/counts/recent), propose per-topic budgets within x.monthlyCap - x.reserve, and say when the cap would run out",
    )
    .option(...FILE_OPTION)
    .option('--window <duration>', "how far back to count (at most X's 7 days)", '7d')
    .option('--granularity <unit>', 'count buckets: minute | hour | day', 'hour')
    .option('--json', 'print the plan as JSON')
    .option('--write', 'write the proposed budgets into the rules file (its rules and comments kept)')
    .action(async (o: { file?: string; window: string; granularity: string; json?: boolean; write?: boolean }, sub: Command) => {
      const config = configFrom(sub, []);
      const file = o.file ?? config.x.rulesFile;
      const span = parseDuration(o.window);
      if (!span.ok) throw new CrowdpulseError('CP_USAGE', `--window: ${span.error}`);
      if (!GRANULARITIES.includes(o.granularity as Granularity))
        throw new CrowdpulseError('CP_USAGE', `--granularity: "${o.granularity}" is not one of ${GRANULARITIES.join(', ')}`);
      const granularity = o.granularity as Granularity;
      const doc = loadRulesDocument(file);
      if (!doc.ok) throw doc.error;
      if (doc.value.rules.length === 0) throw new RulesError(`rules file ${file}: no rules to plan`);
      const client = commandClient(config.x);
      const now = Date.now();
      const window = countsWindow(now, span.value);
      const counts = await commandCall('rules plan', () => countRules(client, doc.value.rules, window, { granularity }));
      const usage = await fetchUsage(client);
      const plan = planRules({
        counts,
        window,
        now,
        period: billingPeriod(now, config.x.capResetDay),
        monthlyCap: config.x.monthlyCap,
        reserve: config.x.reserve,
        ...(usage.ok ? { used: usage.value.projectUsage } : {}),
      });
      const ctx = {
        file,
        granularity,
        clamped: window.clamped,
        monthlyCap: config.x.monthlyCap,
        reserve: config.x.reserve,
        ...(usage.ok ? {} : { usageUnavailable: `GET /2/usage/tweets: ${usage.error}` }),
      };
      if (usage.ok && usage.value.capResetDay !== undefined && usage.value.capResetDay !== config.x.capResetDay)
        process.stderr.write(
          `note: X says the cap resets on day ${usage.value.capResetDay}; x.capResetDay is ${config.x.capResetDay} (the plan uses x.capResetDay)\n`,
        );
      process.stdout.write(o.json ? planJson(plan, ctx) : planTable(plan, ctx));
      if (o.write) {
        if (budgetsYaml(plan) === '') throw new RulesError('--write: no budgets to write (x.monthlyCap = 0: no cap to split)');
        const written = writeBudgets(file, new Map(plan.topics.map((t) => [t.tag, t.budget ?? 0])));
        if (!written.ok) throw written.error;
        process.stderr.write(`${file}: budgets written for ${written.value.budgets.size} topics (rules kept as they were)\n`);
      }
    });
  return command;
}
