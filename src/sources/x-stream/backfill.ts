import { topicOfRule } from '../../contract/index.js';
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import type { CoverageRecorder } from '../../pipeline/coverage-recorder.js';
import { logger } from '../../telemetry/log.js';
import type { Clock } from '../../x/clock.js';
import type { PostBudgetGovernor } from '../../x/governor.js';
import * as m from '../../x/metrics.js';
import { listRules, type LiveRule } from '../../x/rules.js';

const log = logger('x.backfill');

/** X's recent search reaches 7 days back; a minute is kept off that edge for the time the request takes. */
export const SEARCH_REACH_MS = 7 * 86_400_000 - 60_000;
/** X's max_results bounds for recent search. */
export const SEARCH_MIN_RESULTS = 10;
export const SEARCH_MAX_RESULTS = 100;

/** A hole in what the stream delivered: [from, to) in epoch ms, and why. */
export interface Gap {
  readonly from: number;
  readonly to: number;
  readonly cause: string;
}

export interface BackfillOptions {
  readonly client: TwitterApi;
  readonly clock: Clock;
  readonly tweetFields: readonly string[];
  /** Each hole is widened by this on both sides. */
  readonly marginMs: number;
  /** A hole is filled this long after it closed (X wants end_time ≥ 10 s in the past). */
  readonly delayMs: number;
  /** Holes waiting at most; past it the two oldest merge. */
  readonly maxPending: number;
  readonly governor?: PostBudgetGovernor;
  readonly coverage?: CoverageRecorder;
  /** Whether the stream already delivered the post with this id. */
  delivered(id: string): boolean;
  /** Hands stream-shaped messages (JSON lines) to the source; resolves once they are buffered. */
  deliver(lines: readonly string[], signal: AbortSignal): Promise<void>;
}

/** What filling one hole did. */
export interface FillReport {
  readonly gap: Gap;
  /** Every rule searched over the whole hole, within the budget. */
  readonly complete: boolean;
  /** Why not complete. */
  readonly reason?: string;
  readonly posts: number;
  readonly duplicates: number;
  readonly requests: number;
}

interface SearchPage {
  data?: ({ id: string } & Record<string, unknown>)[];
  meta?: { next_token?: string; result_count?: number };
}

/**
 * Fills the holes the stream leaves from GET /2/tweets/search/recent: rule by rule (the live rules, so
 * a post keeps the topic its rule gives it), over the hole widened by a margin, page by page
 * (next_token), each page no larger than the post budget's headroom. A post the stream delivered is
 * skipped; so is one this backfill already delivered for the same topic. A hole filled whole is a
 * `backfilled` coverage event over it; one cut short (budget, usage cap, X's 7 days) says so in the
 * log and the metrics, and counts as not covered.
 */
export class Backfiller {
  readonly reports: FillReport[] = [];
  #pending: Gap[] = [];
  #wake: (() => void) | undefined;
  #filling = false;

  constructor(private readonly opts: BackfillOptions) {}

  /** Holes waiting or being filled. */
  get busy(): boolean {
    return this.#pending.length > 0 || this.#filling;
  }

  /** A hole to fill, widened by the margin and merged with the holes it overlaps. */
  enqueue(gap: Gap): void {
    if (gap.to <= gap.from) return;
    let next: Gap = { from: gap.from - this.opts.marginMs, to: gap.to + this.opts.marginMs, cause: gap.cause };
    const kept: Gap[] = [];
    for (const g of this.#pending) {
      if (g.from <= next.to && next.from <= g.to) next = { from: Math.min(g.from, next.from), to: Math.max(g.to, next.to), cause: `${g.cause}+${next.cause}` };
      else kept.push(g);
    }
    kept.push(next);
    kept.sort((a, b) => a.from - b.from);
    while (kept.length > this.opts.maxPending) {
      const [a, b] = kept.splice(0, 2) as [Gap, Gap];
      kept.unshift({ from: a.from, to: Math.max(a.to, b.to), cause: `${a.cause}+${b.cause}` });
    }
    this.#pending = kept;
    m.backfillPending.set(this.#pending.length);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Fills holes as they become due, until `signal` aborts (holes still pending then are logged, not filled). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const gap = this.#pending[0];
      if (gap === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      const due = gap.to + this.opts.delayMs - this.opts.clock.now();
      if (due > 0) {
        try {
          await this.opts.clock.sleep(due, signal);
        } catch {
          break;
        }
        continue;
      }
      this.#pending.shift();
      m.backfillPending.set(this.#pending.length);
      this.#filling = true;
      try {
        const report = await this.fill(gap, signal);
        this.#report(report);
      } finally {
        this.#filling = false;
      }
    }
    if (this.#pending.length > 0)
      log.warn('holes left unfilled at shutdown', { holes: this.#pending.length, from: new Date(this.#pending[0]!.from).toISOString() });
  }

  /** Searches every live rule over the hole and delivers what the stream missed. */
  async fill(gap: Gap, signal: AbortSignal): Promise<FillReport> {
    const { client, clock, governor } = this.opts;
    let posts = 0;
    let duplicates = 0;
    let requests = 0;
    const cut = (reason: string): FillReport => ({ gap, complete: false, reason, posts, duplicates, requests });
    const oldest = clock.now() - SEARCH_REACH_MS;
    const from = Math.max(gap.from, oldest);
    let rules: LiveRule[];
    try {
      rules = await listRules(client);
    } catch (e) {
      return cut(`could not list the rules: ${(e as Error).message}`);
    }
    const sent = new Set<string>();
    for (const rule of rules) {
      const topic = topicOfRule(rule);
      let nextToken: string | undefined;
      do {
        if (signal.aborted) return cut('shutdown');
        const room = governor ? Math.min(governor.headroom(), governor.topicHeadroom(topic)) : Infinity;
        if (room < SEARCH_MIN_RESULTS) return cut(`post budget: ${Math.max(0, room)} posts of headroom left (topic ${topic})`);
        const params: Record<string, string> = {
          query: rule.value,
          start_time: new Date(from).toISOString(),
          end_time: new Date(gap.to).toISOString(),
          max_results: String(Math.min(SEARCH_MAX_RESULTS, Math.floor(room))),
          'tweet.fields': this.opts.tweetFields.join(','),
        };
        if (nextToken !== undefined) params.next_token = nextToken;
        let page: SearchPage;
        try {
          page = await client.v2.get<SearchPage>('tweets/search/recent', params);
        } catch (e) {
          m.backfillRequests.inc({ outcome: 'error' });
          return cut(searchFailure(e));
        }
        requests++;
        m.backfillRequests.inc({ outcome: 'ok' });
        const data = Array.isArray(page.data) ? page.data : [];
        // X bills what it returns, new or not.
        governor?.record(data.length);
        governor?.recordTopics([topic], data.length);
        const lines: string[] = [];
        for (const post of data) {
          const key = `${String(post.id)}\t${topic}`;
          if (this.opts.delivered(String(post.id)) || sent.has(key)) {
            duplicates++;
            continue;
          }
          sent.add(key);
          lines.push(JSON.stringify({ data: post, matching_rules: [rule.tag === undefined ? { id: rule.id } : { id: rule.id, tag: rule.tag }] }));
        }
        m.backfillPosts.inc({ outcome: 'new' }, lines.length);
        m.backfillPosts.inc({ outcome: 'duplicate' }, data.length - lines.length);
        posts += lines.length;
        if (lines.length > 0) await this.opts.deliver(lines, signal);
        nextToken = typeof page.meta?.next_token === 'string' && page.meta.next_token !== '' ? page.meta.next_token : undefined;
      } while (nextToken !== undefined);
    }
    if (from > gap.from)
      return cut(`X's recent search reaches back 7 days: ${new Date(gap.from).toISOString()} to ${new Date(from).toISOString()} is out of reach`);
    return { gap, complete: true, posts, duplicates, requests };
  }

  #report(r: FillReport): void {
    this.reports.push(r);
    if (this.reports.length > 100) this.reports.shift();
    const span = `${new Date(r.gap.from).toISOString()} to ${new Date(r.gap.to).toISOString()}`;
    const what = `${r.posts} posts from recent search (${r.duplicates} already delivered, ${r.requests} requests) after ${r.gap.cause}`;
    m.backfillHoles.inc({ outcome: r.complete ? 'filled' : 'partial' });
    if (r.complete) {
      this.opts.coverage?.recordFill(r.gap.from, r.gap.to, what.slice(0, 500));
      log.info('hole filled', { span, posts: r.posts, duplicates: r.duplicates, requests: r.requests });
    } else {
      log.warn('hole filled only in part; it stays uncovered', { span, reason: r.reason, posts: r.posts });
    }
  }
}

/** Why a search request failed, in words (a spent usage cap, a 429, an HTTP error). */
function searchFailure(e: unknown): string {
  if (e instanceof ApiResponseError) {
    const data = (e.data ?? {}) as { title?: string; detail?: string };
    if (e.code === 429 && data.title === 'UsageCapExceeded') return "X's usage cap is spent";
    return `recent search answered HTTP ${e.code}${data.title ? ` ${data.title}` : ''}${data.detail ? `: ${data.detail}` : ''}`;
  }
  return `recent search failed: ${(e as Error).message}`;
}
