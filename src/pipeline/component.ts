import type { DeadLetter, Stage } from '../contract/index.js';

/**
 * A batch of items travelling through the pipeline with its acknowledgement.
 * `ack` is called exactly once, by the runner, after the sink has made every item durable
 * (written, produced downstream, or dead-lettered). Sources commit progress only on ack.
 */
export interface Batch<T> {
  readonly items: readonly T[];
  readonly ack: () => void;
}

/** Produces batches until exhausted or aborted. Backpressure: the runner pulls only when it has room. */
export interface Source<T> {
  readonly name: string;
  /** The stage it serves; an `ingest` source is where posts enter crowdpulse (crowdpulse_posts_total). */
  readonly stage?: Stage;
  /** Messages read so far (lines, stream messages), each of which became an item or a dead letter; for the run's accounting. */
  readonly messagesRead?: number;
  batches(signal: AbortSignal): AsyncIterable<Batch<T>>;
  close(): Promise<void>;
}

/** Turns a batch into a batch; must carry the input's ack on to its output. */
export interface Transform<I, O> {
  readonly name: string;
  readonly stage?: Stage;
  apply(batch: Batch<I>): Promise<Batch<O>>;
  close(): Promise<void>;
}

/** Makes a batch durable; resolves only when it is. Rejecting means the batch is not durable (the runner stops). */
export interface Sink<T> {
  readonly name: string;
  /** The stage it serves; a `store` sink is where posts become durable (posts_total, end-to-end latency). */
  readonly stage?: Stage;
  write(items: readonly T[]): Promise<void>;
  close(): Promise<void>;
}

/** Where refused messages go. `write` resolves once they are durable. */
export interface DeadLetterSink {
  write(letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}
