/**
 * The emulator's publication timeline: which post of the recording X "published" when. Search,
 * counts and every stream connection read it; a connection is only a position in it.
 *
 * Two parts, one index space (`abs`, 0 = the oldest post ever published):
 * - history (`historySeconds` before start, see {@link historyPlan}): implicit, computed from the
 *   plan, so a week of history costs no memory;
 * - live (from the first stream connection on): publication time and recording index per post in
 *   chunks of typed arrays (12 bytes a post); chunks older than the search window (or beyond
 *   MAX_RETAINED_LIVE posts) are dropped.
 *
 * Publication times are epoch ms of real time (Date.now(), as stream pacing). Post ids, when the
 * emulator stamps them ('published' timestamps), are snowflakes of the publication time.
 */

/** X's snowflake epoch (2010-11-04T01:42:54.657Z). */
export const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657;
const SEQUENCE_BITS = 22n;
const SEQUENCE_MASK = (1 << 22) - 1;
/** Search and counts look back 7 days, as X's recent endpoints. */
export const RECENT_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
const CHUNK = 1 << 16;
/**
 * Live posts kept at most (2^25, 12 bytes each): 7 days at 55 posts/s. Above that rate, sustained
 * for days, search and counts see less than 7 days of live publication.
 */
export const MAX_RETAINED_LIVE = 1 << 25;

/** `(ms − epoch) << 22 | sequence` as a decimal string. */
export function snowflake(ms: number, sequence: number): string {
  return ((BigInt(Math.floor(ms) - SNOWFLAKE_EPOCH_MS) << SEQUENCE_BITS) | BigInt(sequence & SEQUENCE_MASK)).toString();
}

/** The ms a snowflake id was made at. */
export function snowflakeTime(id: bigint): number {
  return Number(id >> SEQUENCE_BITS) + SNOWFLAKE_EPOCH_MS;
}

/** The history the emulator starts with (all numbers; see {@link historyPlan}). */
export interface HistoryPlan {
  /** Posts published before start. */
  readonly count: number;
  /** Epoch ms of the first one: start − historySeconds·1000. */
  readonly originMs: number;
  /** Epoch ms the emulator started (the history ends before it). */
  readonly endMs: number;
  /** Posts of the recording per second. */
  readonly rate: number;
  readonly recordingLength: number;
}

/**
 * The history the emulator considers already published when it starts, and the formula for what
 * it holds (what a budget planner or a test can compute without asking the emulator):
 *
 *   L = recording length, r = `rate`, H = `historySeconds`, S = start (epoch ms)
 *   N = ⌊H · r⌋ posts, or min(N, L) without `loop`
 *   post i (0 ≤ i < N) is recording post (i mod L), published at t_i = S − H·1000 + ⌊i · 1000 / r⌋
 *
 * History is published from ALL posts of the recording (rules are unknown before start), so the
 * volume a rule R is known to have in a window [a, b) is #{ i < N : a ≤ t_i < b, R matches post
 * (i mod L) }; over the whole history that is ⌊N / L⌋ · m(R, L) + m(R, N mod L), where m(R, k) is
 * the number of the first k recording posts R matches ({@link historyVolume}). search/recent and
 * counts/recent see only the part of it in the last 7 days. Live publication then goes on from
 * recording post (N mod L) (N without `loop`) at r posts per second of those matching the stream's
 * rules, from the first stream connection on.
 */
export function historyPlan(o: { historySeconds: number; rate: number; recordingLength: number; loop: boolean; startMs: number }): HistoryPlan {
  const raw = o.rate > 0 && o.recordingLength > 0 ? Math.floor(o.historySeconds * o.rate) : 0;
  const count = o.loop ? raw : Math.min(raw, o.recordingLength);
  return { count, originMs: o.startMs - Math.round(o.historySeconds * 1000), endMs: o.startMs, rate: o.rate, recordingLength: o.recordingLength };
}

/** Posts of the history a predicate (a rule) matches: ⌊N / L⌋ · m(L) + m(N mod L). */
export function historyVolume(plan: HistoryPlan, matchesPost: (index: number) => boolean): number {
  const L = plan.recordingLength;
  if (plan.count === 0 || L === 0) return 0;
  let full = 0;
  let prefix = 0;
  const rest = plan.count % L;
  for (let i = 0; i < L; i++) {
    if (!matchesPost(i)) continue;
    full++;
    if (i < rest) prefix++;
  }
  return Math.floor(plan.count / L) * full + prefix;
}

interface Chunk {
  readonly times: Float64Array;
  readonly index: Uint32Array;
}

export class Timeline {
  private readonly chunks: Chunk[] = [];
  /** Live posts dropped from the front (whole chunks older than the search window). */
  private dropped = 0;
  private live = 0;

  constructor(readonly history: HistoryPlan) {}

  /** Posts ever published (history included): one past the newest abs index. */
  get size(): number {
    return this.history.count + this.live;
  }

  get liveCount(): number {
    return this.live;
  }

  /** The oldest abs index still known. */
  get first(): number {
    return this.dropped === 0 ? 0 : this.history.count + this.dropped;
  }

  push(time: number, index: number): void {
    const k = this.live - this.dropped;
    if (k % CHUNK === 0) this.chunks.push({ times: new Float64Array(CHUNK), index: new Uint32Array(CHUNK) });
    const chunk = this.chunks[Math.floor(k / CHUNK)]!;
    chunk.times[k % CHUNK] = time;
    chunk.index[k % CHUNK] = index;
    this.live++;
  }

  timeAt(abs: number): number {
    if (abs < this.history.count) return this.history.originMs + Math.floor((abs * 1000) / this.history.rate);
    const [c, k] = this.locate(abs);
    return c.times[k]!;
  }

  /** The recording index of the post published at `abs`. */
  indexAt(abs: number): number {
    if (abs < this.history.count) return abs % this.history.recordingLength;
    const [c, k] = this.locate(abs);
    return c.index[k]!;
  }

  /** The snowflake id of the post published at `abs`: its ms, and its rank among the posts of that ms. */
  idAt(abs: number): string {
    const t = this.timeAt(abs);
    let seq = 0;
    if (abs < this.history.count) {
      seq = abs - this.firstHistoryIndexAt(t);
    } else {
      const floor = Math.max(this.first, this.history.count);
      for (let j = abs - 1; j >= floor && this.timeAt(j) === t; j--) seq++;
    }
    return snowflake(t, seq);
  }

  /** The first abs index (≥ first) published at or after `time`; `size` when none. */
  lowerBound(time: number): number {
    let lo = this.first;
    let hi = this.size;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.timeAt(mid) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Drops whole live chunks whose newest post was published before `before` (the search window), and
   * the oldest beyond {@link MAX_RETAINED_LIVE} posts: memory stays bounded (about 400 MB at most).
   */
  prune(before: number): void {
    while (this.chunks.length > 1 && (this.chunks[0]!.times[CHUNK - 1]! < before || this.live - this.dropped > MAX_RETAINED_LIVE)) {
      this.chunks.shift();
      this.dropped += CHUNK;
    }
  }

  private locate(abs: number): [Chunk, number] {
    const k = abs - this.history.count - this.dropped;
    if (k < 0 || abs >= this.size) throw new RangeError(`timeline index ${abs} outside [${this.first}, ${this.size})`);
    return [this.chunks[Math.floor(k / CHUNK)]!, k % CHUNK];
  }

  /** The first history index published in the same ms as `t` (history times are non-decreasing). */
  private firstHistoryIndexAt(t: number): number {
    const { originMs, rate } = this.history;
    let i = Math.max(0, Math.ceil(((t - originMs) * rate) / 1000));
    while (i > 0 && originMs + Math.floor(((i - 1) * 1000) / rate) >= t) i--;
    while (originMs + Math.floor((i * 1000) / rate) < t) i++;
    return i;
  }
}
