import { billingPeriod, type BillingPeriod } from './billing-period.js';
import { CrowdpulseError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';
import { readGovernorState, writeGovernorState } from './governor-state.js';
import * as m from './metrics.js';
import { logger } from '../telemetry/log.js';

const log = logger('x.governor');
const HOUR = 3_600_000;

export interface GovernorOptions {
  /** Posts per billing period (X's monthly Post cap for the project). */
  readonly cap: number;
  /** Day of month (UTC) the period starts. */
  readonly resetDay: number;
  /** Posts allowed ahead of the even spread (default: one hour of the even rate). */
  readonly burst?: number;
  /** Posts kept back from the cap for messages in flight when a connection is cut (default 0). */
  readonly reserve?: number;
  readonly clock?: Clock;
  /** JSON file the count is persisted to (atomic writes); none = memory only. */
  readonly statePath?: string;
  /** Minimum milliseconds between state writes while posts flow (default 1000). */
  readonly persistEveryMs?: number;
  /** Posts per billing period per topic (the rules file's budgets:); topics without one share the rest of the cap. */
  readonly topicBudgets?: ReadonlyMap<string, number>;
}

export interface BudgetSnapshot {
  readonly cap: number;
  readonly usable: number;
  readonly consumed: number;
  readonly remaining: number;
  /** Posts the budget line allows now minus those consumed (≤ 0: ahead of the line). */
  readonly headroom: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  /** When the budget would run out at the period-to-date rate; null before anything is consumed. */
  readonly projectedExhaustion: number | null;
}

/** `admit(n)` was asked for more posts than a whole period allows. */
export class BudgetError extends CrowdpulseError<'CP_X_BUDGET'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_X_BUDGET', message, options);
  }
}

/**
 * Post budget per billing period. The budget line grows evenly from `burst` at the period start to
 * `cap − reserve` at its end; consumers stay under it:
 * - the X stream source disconnects when `headroom() ≤ 0` and reconnects once `resumeThreshold()` posts
 *   have accrued (`waitForHeadroom`), so the cap is never crossed and lasts the whole period;
 * - a replay (or any) source paces itself with `admit(n)`, which waits until n posts fit, then counts them.
 * The count survives restarts (state file) and is raised to X's own count by `reconcile()`.
 */
export class PostBudgetGovernor {
  private readonly clock: Clock;
  private period: BillingPeriod;
  private consumedPosts = 0;
  private readonly topicConsumed = new Map<string, number>();
  private lastPersist = 0;
  private dirty = false;

  private constructor(private readonly opts: GovernorOptions) {
    if (!Number.isInteger(opts.cap) || opts.cap <= 0) throw new BudgetError(`governor cap must be a positive integer, got ${opts.cap}`);
    if ((opts.reserve ?? 0) >= opts.cap) throw new BudgetError(`governor reserve (${opts.reserve}) must be below the cap (${opts.cap})`);
    this.clock = opts.clock ?? systemClock;
    this.period = billingPeriod(this.clock.now(), opts.resetDay);
  }

  /** Creates a governor, restoring the persisted count when it belongs to the current period. */
  static open(opts: GovernorOptions): PostBudgetGovernor {
    const g = new PostBudgetGovernor(opts);
    if (opts.statePath) {
      const state = readGovernorState(opts.statePath);
      if (state && Date.parse(state.periodStart) === g.period.start) {
        g.consumedPosts = state.consumed;
        for (const [topic, n] of Object.entries(state.topics ?? {})) if (g.opts.topicBudgets?.has(topic)) g.topicConsumed.set(topic, n);
        log.info('restored post count', { consumed: state.consumed, periodStart: state.periodStart });
      }
    }
    g.publish();
    return g;
  }

  get usable(): number {
    return this.opts.cap - (this.opts.reserve ?? 0);
  }

  get burst(): number {
    if (this.opts.burst !== undefined && this.opts.burst > 0) return Math.min(this.opts.burst, this.usable);
    const p = this.currentPeriod();
    return Math.max(1, Math.floor((this.usable * HOUR) / (p.end - p.start)));
  }

  consumed(): number {
    this.currentPeriod();
    return this.consumedPosts;
  }

  /** Posts the line allows at time t (integer, never above cap − reserve). */
  allowedAt(t: number): number {
    const p = this.currentPeriod();
    const fraction = Math.min(1, Math.max(0, (t - p.start) / (p.end - p.start)));
    return Math.min(this.usable, Math.floor(this.burst + this.usable * fraction));
  }

  headroom(): number {
    return this.allowedAt(this.clock.now()) - this.consumed();
  }

  /** Headroom at which a paused stream reconnects: half the burst, so connects stay rare (X allows 50 per 15 min). */
  resumeThreshold(): number {
    return Math.max(1, Math.floor(this.burst / 2));
  }

  /** Milliseconds until `n` more posts fit under the line (0 if they fit now). Crosses into the next period if needed. */
  msUntilHeadroom(n: number): number {
    const now = this.clock.now();
    const p = this.currentPeriod();
    const need = this.consumedPosts + n;
    if (need <= this.allowedAt(now)) return 0;
    if (need > this.usable) return p.end - now;
    const t = p.start + Math.ceil(((need - this.burst) * (p.end - p.start)) / this.usable);
    return Math.max(1, Math.min(p.end, t) - now);
  }

  /** Waits (on the governor's clock) until `n` posts fit under the line. */
  async waitForHeadroom(n: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const delay = this.msUntilHeadroom(n);
      if (delay === 0) return;
      this.publish();
      await this.clock.sleep(delay, signal);
    }
  }

  /** Counts posts already received (the stream cannot refuse them). */
  record(n: number): void {
    if (n <= 0) return;
    this.currentPeriod();
    this.consumedPosts += n;
    this.dirty = true;
    this.publish();
    this.maybePersist();
  }

  /** The topics with a budget of their own. */
  get budgetedTopics(): readonly string[] {
    return [...(this.opts.topicBudgets?.keys() ?? [])];
  }

  /**
   * Posts a topic's own budget line allows now minus those it consumed: the line grows evenly over
   * the period like the project's, from an hour of the topic's even rate. Infinity for a topic
   * without a budget (it is bounded by the project's line only).
   */
  topicHeadroom(topic: string): number {
    const budget = this.opts.topicBudgets?.get(topic);
    if (budget === undefined) return Infinity;
    return this.topicAllowedAt(budget, this.clock.now()) - (this.topicConsumed.get(topic) ?? 0);
  }

  /** Headroom at which a topic taken off the stream goes back on: half its burst. */
  topicResumeThreshold(topic: string): number {
    const budget = this.opts.topicBudgets?.get(topic);
    return budget === undefined ? 1 : Math.max(1, Math.floor(this.topicBurst(budget) / 2));
  }

  topicConsumption(topic: string): number {
    this.currentPeriod();
    return this.topicConsumed.get(topic) ?? 0;
  }

  /** Counts `n` posts against each of `topics` that has a budget (the project's count is `record`). */
  recordTopics(topics: readonly string[], n = 1): void {
    if (!this.opts.topicBudgets) return;
    this.currentPeriod();
    for (const t of topics) {
      if (!this.opts.topicBudgets.has(t)) continue;
      this.topicConsumed.set(t, (this.topicConsumed.get(t) ?? 0) + n);
      this.dirty = true;
    }
  }

  private topicBurst(budget: number): number {
    const p = this.currentPeriod();
    return Math.max(1, Math.floor((budget * HOUR) / (p.end - p.start)));
  }

  private topicAllowedAt(budget: number, t: number): number {
    const p = this.currentPeriod();
    const fraction = Math.min(1, Math.max(0, (t - p.start) / (p.end - p.start)));
    return Math.min(budget, Math.floor(this.topicBurst(budget) + budget * fraction));
  }

  /** Paces a source that can wait: resolves when `n` posts fit under the line, and counts them. */
  async admit(n: number, signal?: AbortSignal): Promise<void> {
    if (n > this.usable) throw new BudgetError(`cannot admit ${n} posts at once: the period allows ${this.usable}`);
    await this.waitForHeadroom(n, signal);
    this.record(n);
  }

  /** Raises the local count to X's (GET /2/usage/tweets): X's count includes posts this process never saw. */
  reconcile(projectUsage: number, projectCap?: number): void {
    this.currentPeriod();
    if (projectCap !== undefined && projectCap < this.opts.cap)
      log.warn('X reports a smaller cap than configured; the configured cap may be crossed', { configured: this.opts.cap, x: projectCap });
    if (projectUsage > this.consumedPosts) {
      log.info('usage reconciled with X', { local: this.consumedPosts, x: projectUsage });
      this.consumedPosts = projectUsage;
      this.dirty = true;
      this.publish();
      this.persist();
    }
  }

  snapshot(): BudgetSnapshot {
    const now = this.clock.now();
    const p = this.currentPeriod();
    const elapsed = now - p.start;
    const projected = this.consumedPosts > 0 && elapsed > 0 ? p.start + (this.opts.cap * elapsed) / this.consumedPosts : null;
    return {
      cap: this.opts.cap,
      usable: this.usable,
      consumed: this.consumedPosts,
      remaining: Math.max(0, this.usable - this.consumedPosts),
      headroom: this.allowedAt(now) - this.consumedPosts,
      periodStart: p.start,
      periodEnd: p.end,
      projectedExhaustion: projected,
    };
  }

  /** Writes the state file now if anything changed. */
  flush(): void {
    if (this.dirty) this.persist();
  }

  private currentPeriod(): BillingPeriod {
    const now = this.clock.now();
    if (now >= this.period.end || now < this.period.start) {
      const next = billingPeriod(now, this.opts.resetDay);
      if (next.start !== this.period.start) {
        log.info('new billing period', { start: new Date(next.start).toISOString(), previousConsumed: this.consumedPosts });
        this.period = next;
        this.consumedPosts = 0;
        this.topicConsumed.clear();
        this.dirty = true;
      }
    }
    return this.period;
  }

  private maybePersist(): void {
    const now = this.clock.now();
    if (now - this.lastPersist >= (this.opts.persistEveryMs ?? 1000)) this.persist();
  }

  private persist(): void {
    this.lastPersist = this.clock.now();
    this.dirty = false;
    if (!this.opts.statePath) return;
    writeGovernorState(this.opts.statePath, {
      version: 1,
      periodStart: new Date(this.period.start).toISOString(),
      consumed: this.consumedPosts,
      updatedAt: new Date(this.clock.now()).toISOString(),
      ...(this.topicConsumed.size > 0 ? { topics: Object.fromEntries(this.topicConsumed) } : {}),
    });
  }

  private publish(): void {
    const s = this.snapshot();
    m.budgetCap.set(s.usable);
    m.budgetConsumed.set(s.consumed);
    m.budgetRemaining.set(s.remaining);
    m.budgetHeadroom.set(s.headroom);
    m.budgetExhaustion.set(s.projectedExhaustion === null ? 0 : s.projectedExhaustion / 1000);
    m.budgetPeriodEnd.set(s.periodEnd / 1000);
    for (const topic of this.budgetedTopics) {
      m.topicBudgetHeadroom.set({ topic }, this.topicHeadroom(topic));
      m.topicBudgetConsumed.set({ topic }, this.topicConsumed.get(topic) ?? 0);
    }
  }
}

/** The governor as the replay source's pacer (`ReplayOptions.governor`): `admit(n, createdAtMs, signal)`. */
export function governorPacer(governor: PostBudgetGovernor): { admit(n: number, createdAtMs: number, signal?: AbortSignal): Promise<void> } {
  return { admit: (n, _createdAtMs, signal) => governor.admit(n, signal) };
}
