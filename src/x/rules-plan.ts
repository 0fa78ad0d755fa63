/**
 * The arithmetic of `crowdpulse rules plan` (issue #14.5), pure: from each rule's post count over a
 * recent window (GET /2/tweets/counts/recent), a forecast of each rule's and each topic's volume
 * over the billing period, per-topic budgets that fit the usable cap (x.monthlyCap - x.reserve),
 * and when the cap would run out at the forecast rate.
 *
 * A topic's volume is the sum of its rules' counts: an upper bound, since a post that matches two
 * rules of one topic is counted twice by the counts endpoint and delivered (and billed) once by the
 * stream. The same holds for the total across topics.
 */
import type { BillingPeriod } from './billing-period.js';

const DAY_MS = 86_400_000;

export interface RuleCount {
  readonly value: string;
  readonly tag: string;
  /** Posts matching the rule in the window. */
  readonly count: number;
}

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** Posts per millisecond of `count` posts over `window`. */
export function ratePerMs(count: number, window: TimeWindow): number {
  const span = window.end - window.start;
  return span > 0 ? count / span : 0;
}

/** Posts over a whole billing period at `rate` posts/ms, rounded up (a forecast is a whole number of posts). */
export function forecastPosts(rate: number, period: BillingPeriod): number {
  return Math.max(0, Math.ceil(rate * (period.end - period.start) - 1e-9));
}

/**
 * Max-min fair split of `capacity` whole units over `demands` (water-filling): every demand gets
 * min(demand, level) for the highest level that fits, and the units left by rounding go one each to
 * demands still above the level (the largest first; ties by position). Properties: the sum is
 * min(capacity, sum of demands); no share exceeds its demand; every share is at least
 * min(demand, floor(capacity / n)), so a large demand cannot take a small one's fair share.
 */
export function waterFill(demands: readonly number[], capacity: number): { shares: number[]; level: number } {
  const d = demands.map((x) => Math.max(0, Math.floor(x)));
  const cap = Math.max(0, Math.floor(capacity));
  const total = d.reduce((a, b) => a + b, 0);
  if (total <= cap) return { shares: d, level: Math.max(0, ...d) };
  // The largest whole level L with sum(min(d_i, L)) <= cap (a binary search: the sum grows with L).
  let lo = 0;
  let hi = Math.max(...d);
  const filled = (level: number): number => d.reduce((a, x) => a + Math.min(x, level), 0);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (filled(mid) <= cap) lo = mid;
    else hi = mid - 1;
  }
  const shares = d.map((x) => Math.min(x, lo));
  let left = cap - filled(lo);
  const above = d
    .map((x, i) => ({ x, i }))
    .filter((e) => e.x > lo)
    .sort((a, b) => b.x - a.x || a.i - b.i);
  for (const e of above) {
    if (left === 0) break;
    shares[e.i]! += 1;
    left -= 1;
  }
  return { shares, level: lo };
}

export interface BudgetProposal {
  readonly budgets: number[];
  /** Whether the forecasts fit the usable cap (each topic gets its forecast plus a share of the slack). */
  readonly fits: boolean;
  /** Posts left over once every forecast is covered (0 when the cap binds). */
  readonly slack: number;
  /** When the cap binds: the water level, the most posts a topic can be given (the fair share of a loud topic). */
  readonly level?: number;
}

/**
 * Per-topic budgets from per-topic forecasts and the usable cap. When the forecasts fit, each topic
 * gets its forecast plus an equal share of the slack (so a quiet topic also has room to grow; the
 * units left by rounding go to the first topics); when they do not, a max-min fair split
 * (waterFill). The budgets sum to the usable cap (or less, when it is 0).
 */
export function proposeBudgets(forecasts: readonly number[], usableCap: number): BudgetProposal {
  const f = forecasts.map((x) => Math.max(0, Math.ceil(x - 1e-9)));
  const cap = Math.max(0, Math.floor(usableCap));
  const demand = f.reduce((a, b) => a + b, 0);
  if (f.length === 0) return { budgets: [], fits: true, slack: cap };
  if (demand <= cap) {
    const slack = cap - demand;
    const each = Math.floor(slack / f.length);
    const extra = slack - each * f.length;
    return { budgets: f.map((x, i) => x + each + (i < extra ? 1 : 0)), fits: true, slack };
  }
  const filled = waterFill(f, cap);
  return { budgets: filled.shares, fits: false, slack: 0, level: filled.level };
}

export type RunOut =
  /** No cap configured (x.monthlyCap = 0). */
  | { readonly kind: 'no-cap' }
  /** The usage already reaches the usable cap. */
  | { readonly kind: 'spent'; readonly at: number }
  /** The cap runs out before the reset, at `at`. */
  | { readonly kind: 'runs-out'; readonly at: number }
  /** It lasts until the reset (`reset`); `at` is when it would run out at this rate (Infinity: never, no volume). */
  | { readonly kind: 'lasts'; readonly at: number; readonly reset: number };

/** When `usableCap` is spent from `used` posts at `now`, at `rate` posts/ms; compared with the period's end. */
export function runOut(input: { now: number; used: number; usableCap: number; rate: number; period: BillingPeriod }): RunOut {
  const { now, used, usableCap, rate, period } = input;
  if (used >= usableCap) return { kind: 'spent', at: now };
  const at = rate > 0 ? now + (usableCap - used) / rate : Number.POSITIVE_INFINITY;
  return at < period.end ? { kind: 'runs-out', at: Math.floor(at) } : { kind: 'lasts', at, reset: period.end };
}

export interface PlanInput {
  readonly counts: readonly RuleCount[];
  readonly window: TimeWindow;
  readonly now: number;
  readonly period: BillingPeriod;
  /** x.monthlyCap; 0 = no cap. */
  readonly monthlyCap: number;
  readonly reserve: number;
  /** Posts used this period (GET /2/usage/tweets project_usage); undefined = unknown. */
  readonly used?: number;
}

export interface RuleForecast {
  readonly value: string;
  readonly tag: string;
  readonly windowCount: number;
  readonly perDay: number;
  readonly forecast: number;
}

export interface TopicPlan {
  readonly tag: string;
  readonly rules: number;
  readonly windowCount: number;
  readonly perDay: number;
  /** Its rules' summed rate over the period: an upper bound (a post matching two of its rules is counted twice). */
  readonly forecast: number;
  /** The proposed budget (undefined without a cap). */
  readonly budget?: number;
}

export interface Plan {
  /** When the plan was made (the run-out date counts from it). */
  readonly now: number;
  readonly window: TimeWindow;
  readonly period: BillingPeriod;
  readonly rules: readonly RuleForecast[];
  readonly topics: readonly TopicPlan[];
  /** Sum of the topics' forecasts (an upper bound: a post matching rules of two topics is billed once). */
  readonly totalForecast: number;
  readonly totalPerDay: number;
  /** x.monthlyCap - x.reserve (undefined without a cap). */
  readonly usableCap?: number;
  readonly fits?: boolean;
  readonly slack?: number;
  readonly level?: number;
  /** Posts used this period, and whether that is X's number or an estimate (the forecast rate since the period began). */
  readonly used: number;
  readonly usedEstimated: boolean;
  readonly runOut: RunOut;
}

/** The whole plan: forecasts per rule and per topic (topics in order of first appearance), budgets, run-out. */
export function planRules(input: PlanInput): Plan {
  const { counts, window, now, period } = input;
  const rules: RuleForecast[] = counts.map((c) => {
    const rate = ratePerMs(c.count, window);
    return { value: c.value, tag: c.tag, windowCount: c.count, perDay: rate * DAY_MS, forecast: forecastPosts(rate, period) };
  });
  const byTag = new Map<string, { rules: number; windowCount: number; rate: number }>();
  for (const c of counts) {
    const t = byTag.get(c.tag) ?? { rules: 0, windowCount: 0, rate: 0 };
    byTag.set(c.tag, { rules: t.rules + 1, windowCount: t.windowCount + c.count, rate: t.rate + ratePerMs(c.count, window) });
  }
  const topicRates = [...byTag.entries()].map(([tag, t]) => ({ tag, ...t, forecast: forecastPosts(t.rate, period) }));
  const totalRate = topicRates.reduce((a, t) => a + t.rate, 0);
  const totalForecast = topicRates.reduce((a, t) => a + t.forecast, 0);
  const usedEstimated = input.used === undefined;
  const used = input.used ?? Math.round(totalRate * Math.max(0, now - period.start));

  if (input.monthlyCap <= 0) {
    return {
      now,
      window,
      period,
      rules,
      topics: topicRates.map((t) => ({ tag: t.tag, rules: t.rules, windowCount: t.windowCount, perDay: t.rate * DAY_MS, forecast: t.forecast })),
      totalForecast,
      totalPerDay: totalRate * DAY_MS,
      used,
      usedEstimated,
      runOut: { kind: 'no-cap' },
    };
  }
  const usableCap = Math.max(0, input.monthlyCap - input.reserve);
  const proposal = proposeBudgets(
    topicRates.map((t) => t.forecast),
    usableCap,
  );
  return {
    now,
    window,
    period,
    rules,
    topics: topicRates.map((t, i) => ({
      tag: t.tag,
      rules: t.rules,
      windowCount: t.windowCount,
      perDay: t.rate * DAY_MS,
      forecast: t.forecast,
      budget: proposal.budgets[i]!,
    })),
    totalForecast,
    totalPerDay: totalRate * DAY_MS,
    usableCap,
    fits: proposal.fits,
    slack: proposal.slack,
    ...(proposal.level !== undefined ? { level: proposal.level } : {}),
    used,
    usedEstimated,
    runOut: runOut({ now, used, usableCap, rate: totalRate, period }),
  };
}
