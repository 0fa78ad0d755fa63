import type { DeadLetter } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';

/**
 * Counts the letters one component hands on (no metrics: the sink it wraps counts those). The role
 * runner gives one to the sink, so that posts the sink dead-lettered (InfluxDB refused them, a
 * record was too large) are not also counted as stored.
 */
export class TallyDeadLetterSink implements DeadLetterSink {
  #count = 0;
  constructor(private readonly inner: DeadLetterSink) {}

  get count(): number {
    return this.#count;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    await this.inner.write(letters);
    this.#count += letters.length;
  }

  /** The inner sink is closed by whoever opened it. */
  async close(): Promise<void> {}
}
