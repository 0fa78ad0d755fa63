/**
 * Per-partition bookkeeping of handed-out offsets. Acks may arrive out of order (batches finish in
 * any order downstream); the commit point is one past the highest offset below which every handed-out
 * offset is acked. Offsets are handed out in increasing order (Kafka's per-partition order).
 */
export class PartitionTracker {
  /** Offsets handed out and not yet passed by the commit point, in order. */
  readonly #outstanding: number[] = [];
  #head = 0;
  readonly #acked = new Set<number>();
  /** Next offset to commit (one past the last contiguous acked offset); undefined until one is acked. */
  #commitPoint: number | undefined;
  #lastTracked = -1;
  /** Highest commit point the broker confirmed. */
  committed: number | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Records an offset handed to the pipeline. */
  track(offset: number): void {
    if (offset <= this.#lastTracked) {
      throw new RangeError(`partition ${this.topic}/${this.partition}: offset ${offset} handed out after ${this.#lastTracked}`);
    }
    this.#lastTracked = offset;
    this.#outstanding.push(offset);
  }

  /** Marks an offset done (its output is durable). */
  ack(offset: number): void {
    this.#acked.add(offset);
    while (this.#head < this.#outstanding.length) {
      const next = this.#outstanding[this.#head] as number;
      if (!this.#acked.has(next)) break;
      this.#acked.delete(next);
      this.#head++;
      this.#commitPoint = next + 1;
    }
    // Compact the consumed prefix now and then (amortised O(1)).
    if (this.#head > 1024 && this.#head * 2 > this.#outstanding.length) {
      this.#outstanding.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Highest offset handed out so far (-1 before the first). */
  get lastTracked(): number {
    return this.#lastTracked;
  }

  /** Offsets handed out and not yet acked. */
  get inFlight(): number {
    return this.#outstanding.length - this.#head;
  }

  /** The offset to commit, when there is progress beyond what the broker confirmed. */
  get pendingCommit(): number | undefined {
    if (this.#commitPoint === undefined) return undefined;
    if (this.committed !== undefined && this.committed >= this.#commitPoint) return undefined;
    return this.#commitPoint;
  }
}
