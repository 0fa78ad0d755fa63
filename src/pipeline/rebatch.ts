import { ackAll } from './acks.js';
import type { BoundedQueue } from './bounded-queue.js';
import type { Batch } from './component.js';

export interface BatchingPolicy {
  /** Most items in one merged batch. */
  readonly maxItems: number;
  /** Longest wait for more input once a batch has started, in ms. */
  readonly maxWaitMs: number;
}

/**
 * The part of an input batch not yet handed out. Each part taken gets its own ack; the input's
 * ack fires when the whole batch has been handed out and every part has been acked.
 */
class Remainder<T> {
  #offset = 0;
  #unacked = 0;
  constructor(private readonly batch: Batch<T>) {}

  get left(): number {
    return this.batch.items.length - this.#offset;
  }

  take(room: number, into: T[]): () => void {
    const end = Math.min(this.batch.items.length, this.#offset + room);
    for (let i = this.#offset; i < end; i++) into.push(this.batch.items[i] as T);
    this.#offset = end;
    this.#unacked += 1;
    let acked = false;
    return () => {
      if (acked) return;
      acked = true;
      this.#unacked -= 1;
      if (this.#unacked === 0 && this.left === 0) this.batch.ack();
    };
  }
}

/**
 * Dynamic batcher: takes the next batch, then keeps merging batches that arrive within `maxWaitMs`
 * until `maxItems` is reached. Input batches larger than the room left are split, and their ack
 * fires once every part is acked. `next()` returns undefined when the queue is closed and drained.
 */
export class Rebatcher<T> {
  #remainder: Remainder<T> | undefined;

  constructor(
    private readonly queue: BoundedQueue<Batch<T>>,
    private readonly policy: BatchingPolicy,
  ) {}

  async next(): Promise<Batch<T> | undefined> {
    const items: T[] = [];
    const acks: (() => void)[] = [];
    if (!this.#remainder) {
      const first = await this.queue.shift();
      if (first === undefined) return undefined;
      this.#remainder = new Remainder(first);
    }
    const deadline = Date.now() + this.policy.maxWaitMs;
    while (items.length < this.policy.maxItems) {
      if (!this.#remainder) {
        let next = this.queue.tryShift();
        if (next === undefined) {
          const wait = deadline - Date.now();
          if (wait <= 0 || !(await this.queue.waitForItem(wait))) break;
          next = this.queue.tryShift();
          if (next === undefined) break;
        }
        this.#remainder = new Remainder(next);
      }
      acks.push(this.#remainder.take(this.policy.maxItems - items.length, items));
      if (this.#remainder.left === 0) this.#remainder = undefined;
    }
    return { items, ack: ackAll(acks) };
  }
}
