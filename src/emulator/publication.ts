import type { RecordedPost } from './recorded-posts.js';
import type { RulesStore } from './rules-store.js';
import { RECENT_WINDOW_MS, type Timeline } from './timeline.js';

/** Recording posts looked at per tick at most (a rule that matches little must not block the event loop). */
const MAX_SCAN_PER_CALL = 2000;

/**
 * Live publication, as X publishes: from the first stream connection on, `rate` posts per second of
 * those matching the stream's rules (the rules current at publication), in recording order,
 * whether or not a connection is open. When nothing can be published (no rules, nothing matches,
 * the recording is spent without `loop`, or the scan limit) the pace restarts from now: there is
 * no burst afterwards. Publication times are spread evenly at the pace, never after `now`.
 */
export class Publication {
  private started = false;
  private origin = 0;
  /** Posts published since `origin`. */
  private paced = 0;
  private cursor: number;
  private fruitless = 0;
  private dryRulesVersion = -1;
  private lastTime = -Infinity;

  constructor(
    private readonly posts: readonly RecordedPost[],
    private readonly timeline: Timeline,
    private readonly rate: number,
    private readonly loop: boolean,
  ) {
    const n = timeline.history.count;
    this.cursor = posts.length === 0 ? 0 : loop ? n % posts.length : Math.min(n, posts.length);
  }

  /** Whether live publication has begun (the first stream connection). */
  get live(): boolean {
    return this.started;
  }

  /** The recording index the next live publication looks at. */
  get position(): number {
    return this.cursor;
  }

  start(now: number): void {
    if (this.started) return;
    this.started = true;
    this.restart(now);
  }

  /** Publishes what is due at `now`; returns how many posts were published. */
  publish(now: number, rules: RulesStore): number {
    if (!this.started) return 0;
    if (this.posts.length === 0 || rules.size === 0 || this.dryRulesVersion === rules.version || this.rate <= 0) {
      this.restart(now);
      return 0;
    }
    const due = Math.floor(((now - this.origin) * this.rate) / 1000) - this.paced;
    let scanned = 0;
    let published = 0;
    while (published < due && scanned < MAX_SCAN_PER_CALL) {
      if (this.cursor >= this.posts.length) {
        if (!this.loop) break;
        this.cursor = 0;
      }
      const index = this.cursor++;
      scanned++;
      if (rules.match(this.posts[index]!.features).length === 0) {
        // A whole pass over the recording matched nothing: do not rescan until the rules change.
        if (++this.fruitless >= this.posts.length) {
          this.dryRulesVersion = rules.version;
          this.fruitless = 0;
          break;
        }
        continue;
      }
      this.fruitless = 0;
      const ideal = this.origin + Math.floor(((this.paced + 1) * 1000) / this.rate);
      const time = Math.max(this.lastTime, Math.min(now, ideal));
      this.timeline.push(time, index);
      this.lastTime = time;
      this.paced++;
      published++;
    }
    if (published < due) this.restart(now);
    this.timeline.prune(now - RECENT_WINDOW_MS);
    return published;
  }

  private restart(now: number): void {
    this.origin = now;
    this.paced = 0;
  }
}
