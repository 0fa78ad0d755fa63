import type { RangeSums, ScoreSums } from './bucket-stats.js';

/**
 * The last `capacity` closed buckets of one topic, by absolute bucket index, held as running
 * (cumulative) sums of n, Σ score, Σ score² and n² so that any range of them sums in O(1). Bounded
 * memory: 4 × (capacity + 1) doubles. The running sums are rebased every `capacity` buckets so that
 * they never grow large enough to lose precision.
 */
export class BucketRing {
  private readonly count: Float64Array;
  private readonly sum: Float64Array;
  private readonly sumOfSquares: Float64Array;
  private readonly countSquares: Float64Array;
  /** Slots: one more than the capacity, so the running sum just before the oldest bucket is kept. */
  private readonly slots: number;
  private newest = Number.NaN;
  private pushesSinceRebase = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.slots = capacity + 1;
    this.count = new Float64Array(this.slots);
    this.sum = new Float64Array(this.slots);
    this.sumOfSquares = new Float64Array(this.slots);
    this.countSquares = new Float64Array(this.slots);
  }

  /** Absolute index of the newest bucket held; NaN before the first push. */
  get newestIndex(): number {
    return this.newest;
  }

  /** Absolute index of the oldest bucket whose sums can still be read. */
  get oldestIndex(): number {
    return this.newest - this.capacity + 1;
  }

  /** Appends bucket `index` (after the newest; buckets skipped in between are empty). */
  push(index: number, stats: ScoreSums): void {
    if (Number.isNaN(this.newest)) {
      this.newest = index - 1;
      const slot = this.slotOf(this.newest);
      this.count[slot] = 0;
      this.sum[slot] = 0;
      this.sumOfSquares[slot] = 0;
      this.countSquares[slot] = 0;
    }
    if (index <= this.newest) throw new RangeError(`bucket ${index} is not after the newest bucket ${this.newest}`);
    const previous = this.slotOf(this.newest);
    const [n0, s0, q0, c0] = [this.count[previous] ?? 0, this.sum[previous] ?? 0, this.sumOfSquares[previous] ?? 0, this.countSquares[previous] ?? 0];
    // Empty buckets between: the running sums stay flat (at most a ring's worth needs writing).
    for (let i = Math.max(this.newest + 1, index - this.slots); i < index; i++) this.write(i, n0, s0, q0, c0);
    this.write(index, n0 + stats.n, s0 + stats.sum, q0 + stats.sumOfSquares, c0 + stats.n * stats.n);
    this.newest = index;
    this.pushesSinceRebase += 1;
    if (this.pushesSinceRebase >= this.capacity) this.rebase();
  }

  /** Sums over buckets [from, to), clipped to the buckets the ring holds. */
  range(from: number, to: number): RangeSums {
    const lo = Math.max(from, this.oldestIndex);
    const hi = Math.min(to, this.newest + 1);
    if (!(hi > lo)) return { n: 0, sum: 0, sumOfSquares: 0, buckets: 0, countSquares: 0 };
    const a = this.slotOf(lo - 1);
    const b = this.slotOf(hi - 1);
    return {
      n: (this.count[b] ?? 0) - (this.count[a] ?? 0),
      sum: (this.sum[b] ?? 0) - (this.sum[a] ?? 0),
      sumOfSquares: (this.sumOfSquares[b] ?? 0) - (this.sumOfSquares[a] ?? 0),
      buckets: hi - lo,
      countSquares: (this.countSquares[b] ?? 0) - (this.countSquares[a] ?? 0),
    };
  }

  /** Posts in bucket `index` (0 outside the ring). */
  postsAt(index: number): number {
    return this.range(index, index + 1).n;
  }

  private slotOf(index: number): number {
    return ((index % this.slots) + this.slots) % this.slots;
  }

  private write(index: number, n: number, s: number, q: number, c: number): void {
    const slot = this.slotOf(index);
    this.count[slot] = n;
    this.sum[slot] = s;
    this.sumOfSquares[slot] = q;
    this.countSquares[slot] = c;
  }

  /** Subtracts the running sums just before the oldest bucket from every slot: ranges are unchanged. */
  private rebase(): void {
    const base = this.slotOf(this.oldestIndex - 1);
    const [n0, s0, q0, c0] = [this.count[base] ?? 0, this.sum[base] ?? 0, this.sumOfSquares[base] ?? 0, this.countSquares[base] ?? 0];
    for (let i = 0; i < this.slots; i++) {
      this.count[i] = (this.count[i] ?? 0) - n0;
      this.sum[i] = (this.sum[i] ?? 0) - s0;
      this.sumOfSquares[i] = (this.sumOfSquares[i] ?? 0) - q0;
      this.countSquares[i] = (this.countSquares[i] ?? 0) - c0;
    }
    this.pushesSinceRebase = 0;
  }
}
