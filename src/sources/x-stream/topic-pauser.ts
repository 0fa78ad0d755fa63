import { topicOfRule } from '../../contract/index.js';
import type { TwitterApi } from 'twitter-api-v2';
import { logger } from '../../telemetry/log.js';
import type { PostBudgetGovernor } from '../../x/governor.js';
import * as m from '../../x/metrics.js';
import { addRules, deleteRules, listRules, type DesiredRule } from '../../x/rules.js';

const log = logger('x.budget');

/**
 * Per-topic budgets on a stream that cannot refuse what it is sent: a topic ahead of its own budget
 * line has its rules taken off the stream (X stops sending and billing its posts), and put back once
 * half its burst has accrued. So a loud topic spends its own budget, not the quiet topics' share.
 * The rules taken off are put back when the source closes, so that a restart finds them live.
 * One change at a time; a failed change is retried at the next check.
 */
export class TopicPauser {
  readonly #paused = new Map<string, DesiredRule[]>();
  #changing: Promise<void> | undefined;

  constructor(
    private readonly client: TwitterApi,
    private readonly governor: PostBudgetGovernor,
  ) {
    for (const topic of governor.budgetedTopics) m.topicPaused.set({ topic }, 0);
  }

  /** Topics whose rules are off the stream now. */
  get paused(): readonly string[] {
    return [...this.#paused.keys()];
  }

  /** Compares every budgeted topic with its line and starts the changes needed (never waits). */
  check(): void {
    if (this.#changing) return;
    const over = this.governor.budgetedTopics.filter((t) => !this.#paused.has(t) && this.governor.topicHeadroom(t) <= 0);
    const back = [...this.#paused.keys()].filter((t) => this.governor.topicHeadroom(t) >= this.governor.topicResumeThreshold(t));
    if (over.length === 0 && back.length === 0) return;
    this.#changing = this.#apply(over, back)
      .catch((e: unknown) => log.warn('could not change the rules for the topic budgets; trying again at the next check', { reason: (e as Error).message }))
      .finally(() => {
        this.#changing = undefined;
      });
  }

  /** Waits for a change in progress. */
  async settled(): Promise<void> {
    await this.#changing;
  }

  /** Puts every rule taken off back on the stream. */
  async restore(): Promise<void> {
    await this.#changing;
    if (this.#paused.size === 0) return;
    await this.#apply([], [...this.#paused.keys()]);
  }

  async #apply(over: readonly string[], back: readonly string[]): Promise<void> {
    if (over.length > 0) {
      const live = await listRules(this.client);
      const off = live.filter((r) => over.includes(topicOfRule(r)));
      if (off.length > 0 && off.length === live.length) {
        // X's stream with no rule delivers nothing; the project's own budget line holds it back anyway.
        log.warn('every live rule belongs to a topic over its budget; leaving them on (the project budget paces the stream)', { topics: over });
      } else if (off.length > 0) {
        const removed = await deleteRules(
          this.client,
          off.map((r) => r.id),
        );
        if (!removed.ok) throw removed.error;
        for (const topic of over) {
          const rules = off.filter((r) => topicOfRule(r) === topic).map((r) => ({ value: r.value, tag: r.tag ?? topic }));
          if (rules.length === 0) continue;
          this.#paused.set(topic, rules);
          m.topicPaused.set({ topic }, 1);
          log.info('topic ahead of its budget line: its rules are off the stream', {
            topic,
            consumed: this.governor.topicConsumption(topic),
            rules: rules.length,
          });
        }
      }
    }
    for (const topic of back) {
      const rules = this.#paused.get(topic);
      if (!rules) continue;
      const added = await addRules(this.client, rules);
      if (!added.ok) throw added.error;
      this.#paused.delete(topic);
      m.topicPaused.set({ topic }, 0);
      log.info('topic back under its budget line: its rules are on the stream again', { topic, rules: rules.length });
    }
  }
}
