/** How `crowdpulse rules plan` shows a plan: a human table, JSON, and the `budgets:` block for the rules file. */
import { stringify } from 'yaml';
import type { Granularity } from './rules-counts.js';
import type { Plan, RunOut } from './rules-plan.js';

export interface PlanContext {
  readonly file: string;
  readonly granularity: Granularity;
  /** The window asked for was longer than X's 7 days. */
  readonly clamped: boolean;
  /** Why the usage is an estimate, when GET /2/usage/tweets did not answer. */
  readonly usageUnavailable?: string;
  readonly monthlyCap: number;
  readonly reserve: number;
}

const iso = (t: number): string => new Date(t).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const rate = (n: number): string => (n >= 100 ? int(n) : n.toFixed(1));
const days = (ms: number): string => `${Math.round((ms / 86_400_000) * 10) / 10}d`;
const clip = (s: string, max = 40): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The sentence for when the cap runs out. */
export function describeRunOut(r: RunOut): string {
  switch (r.kind) {
    case 'no-cap':
      return 'no cap (x.monthlyCap = 0): nothing runs out';
    case 'spent':
      return `the usable cap is already spent (${iso(r.at)})`;
    case 'runs-out':
      return `at the forecast rate the usable cap runs out at ${iso(r.at)}`;
    case 'lasts':
      return `at the forecast rate the usable cap lasts until the reset at ${iso(r.reset)}${Number.isFinite(r.at) ? ` (it would run out at ${iso(r.at)})` : ''}`;
  }
}

/** The `budgets:` block to paste into the rules file (empty without a cap). */
export function budgetsYaml(plan: Plan): string {
  const budgets = Object.fromEntries(plan.topics.filter((t) => t.budget !== undefined).map((t) => [t.tag, t.budget!]));
  return Object.keys(budgets).length === 0 ? '' : stringify({ budgets });
}

export function planTable(plan: Plan, ctx: PlanContext): string {
  const out: string[] = [];
  const windowMs = plan.window.end - plan.window.start;
  out.push(
    `${ctx.file}: ${plan.rules.length} rules, ${plan.topics.length} topics; counts ${iso(plan.window.start)} → ${iso(plan.window.end)} (${days(windowMs)}${ctx.clamped ? ", cut to X's 7 days" : ''}, by ${ctx.granularity})`,
  );
  out.push(
    `billing period ${iso(plan.period.start)} → ${iso(plan.period.end)} (${days(plan.period.end - plan.period.start)}); forecast = rate over the window × period`,
  );
  out.push('');
  out.push(
    table(
      ['TOPIC', 'RULE', 'IN WINDOW', 'PER DAY', 'FORECAST'],
      plan.rules.map((r) => [r.tag, clip(r.value), int(r.windowCount), rate(r.perDay), int(r.forecast)]),
      new Set([2, 3, 4]),
    ),
  );
  out.push('');
  const withBudget = plan.usableCap !== undefined;
  out.push(
    table(
      ['TOPIC', 'RULES', 'PER DAY', 'FORECAST', ...(withBudget ? ['BUDGET'] : [])],
      plan.topics.map((t) => [t.tag, String(t.rules), rate(t.perDay), int(t.forecast), ...(withBudget ? [int(t.budget ?? 0)] : [])]),
      new Set([1, 2, 3, 4]),
    ),
  );
  out.push("(a topic's forecast is the sum of its rules' counts: an upper bound, since a post matching two of its rules is counted twice but billed once)");
  out.push('');
  if (plan.usableCap === undefined) {
    out.push(`total forecast ${int(plan.totalForecast)} posts per period (${rate(plan.totalPerDay)}/day); no cap (x.monthlyCap = 0): no budgets proposed`);
  } else {
    const cap = `usable cap ${int(plan.usableCap)} (x.monthlyCap ${int(ctx.monthlyCap)} - x.reserve ${int(ctx.reserve)})`;
    out.push(
      plan.fits
        ? `total forecast ${int(plan.totalForecast)} posts per period (${rate(plan.totalPerDay)}/day) fits the ${cap}: each topic gets its forecast plus an equal share of the ${int(plan.slack ?? 0)} left`
        : `total forecast ${int(plan.totalForecast)} posts per period (${rate(plan.totalPerDay)}/day) does not fit the ${cap}: a max-min fair split (water-filling): each topic gets the less of its forecast and the fair share of ${int(plan.level ?? 0)} (+1 for the rounding left-overs), so a loud topic cannot take a quiet topic's share`,
    );
  }
  const used = plan.usedEstimated
    ? `usage this period unknown (${ctx.usageUnavailable ?? 'not read'}): estimated ${int(plan.used)} at the forecast rate since ${iso(plan.period.start)}`
    : `usage this period: ${int(plan.used)} posts (GET /2/usage/tweets)`;
  out.push(`${used}; ${describeRunOut(plan.runOut)}`);
  const yaml = budgetsYaml(plan);
  if (yaml !== '') {
    out.push('');
    out.push('proposed budgets (paste into the rules file, or run with --write):');
    out.push(yaml.trimEnd());
  }
  return `${out.join('\n')}\n`;
}

/** The plan as JSON: instants as ISO strings, Infinity as null. */
export function planJson(plan: Plan, ctx: PlanContext): string {
  const runOut = plan.runOut;
  const body = {
    file: ctx.file,
    now: new Date(plan.now).toISOString(),
    window: {
      start: new Date(plan.window.start).toISOString(),
      end: new Date(plan.window.end).toISOString(),
      granularity: ctx.granularity,
      clamped: ctx.clamped,
    },
    period: { start: new Date(plan.period.start).toISOString(), end: new Date(plan.period.end).toISOString() },
    rules: plan.rules,
    topics: plan.topics,
    totalForecast: plan.totalForecast,
    totalPerDay: plan.totalPerDay,
    monthlyCap: ctx.monthlyCap,
    reserve: ctx.reserve,
    usableCap: plan.usableCap ?? null,
    fits: plan.fits ?? null,
    slack: plan.slack ?? null,
    level: plan.level ?? null,
    used: plan.used,
    usedEstimated: plan.usedEstimated,
    ...(ctx.usageUnavailable !== undefined ? { usageUnavailable: ctx.usageUnavailable } : {}),
    runOut: {
      kind: runOut.kind,
      at: 'at' in runOut && Number.isFinite(runOut.at) ? new Date(runOut.at).toISOString() : null,
      ...(runOut.kind === 'lasts' ? { reset: new Date(runOut.reset).toISOString() } : {}),
      text: describeRunOut(runOut),
    },
    budgets: Object.fromEntries(plan.topics.filter((t) => t.budget !== undefined).map((t) => [t.tag, t.budget])),
    note: "a topic's forecast (and the total) is the sum of its rules' counts: an upper bound, since a post matching several rules is counted once per rule but billed once",
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}
