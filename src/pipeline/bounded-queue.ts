/**
 * A bounded FIFO with backpressure: `push` waits while the queue holds `capacity` items;
 * `shift` waits while it is empty. `close()` lets consumers drain what is left and then end.
 * Capacity counts entries (batches), and the weight function lets it count items instead.
 */
import { CrowdpulseError } from '../errors.js';
export class BoundedQueue<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  readonly #weigh: (item: T) => number;
  #weight = 0;
  #closed = false;
  #waitingPush: (() => void)[] = [];
  #waitingShift: (() => void)[] = [];

  constructor(
    readonly name: string,
    capacity: number,
    weigh: (item: T) => number = () => 1,
  ) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError(`queue ${name}: capacity must be >= 1, got ${capacity}`);
    this.#capacity = capacity;
    this.#weigh = weigh;
  }

  /** Current weight (items, or whatever the weight function counts). */
  get depth(): number {
    return this.#weight;
  }

  get capacity(): number {
    return this.#capacity;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits for room, then enqueues. An item heavier than the capacity is admitted only into an empty queue. */
  async push(item: T): Promise<void> {
    const weight = this.#weigh(item);
    while (!this.#closed && this.#weight > 0 && this.#weight + weight > this.#capacity) {
      await new Promise<void>((resolve) => this.#waitingPush.push(resolve));
    }
    if (this.#closed) throw new CrowdpulseError('CP_QUEUE_CLOSED', `queue ${this.name} is closed`);
    this.#items.push(item);
    this.#weight += weight;
    this.#wake(this.#waitingShift);
  }

  /** Next item, or undefined once the queue is closed and empty. */
  async shift(): Promise<T | undefined> {
    while (this.#items.length === 0) {
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => this.#waitingShift.push(resolve));
    }
    return this.#take();
  }

  /** Next item if one is ready, without waiting. */
  tryShift(): T | undefined {
    return this.#items.length === 0 ? undefined : this.#take();
  }

  /** Waits until an item is ready, the queue closes, or `ms` pass. True when an item is ready. */
  async waitForItem(ms: number): Promise<boolean> {
    if (this.#items.length > 0) return true;
    if (this.#closed) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#waitingShift.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
    return this.#items.length > 0;
  }

  close(): void {
    this.#closed = true;
    this.#wake(this.#waitingShift);
    this.#wake(this.#waitingPush);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.shift();
      if (item === undefined) return;
      yield item;
    }
  }

  #take(): T {
    const item = this.#items.shift() as T;
    this.#weight -= this.#weigh(item);
    this.#wake(this.#waitingPush);
    return item;
  }

  #wake(waiters: (() => void)[]): void {
    const all = waiters.splice(0, waiters.length);
    for (const resolve of all) resolve();
  }
}
