import type { DeadLetter } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import { deadLettersTotal } from '../../telemetry/metrics.js';

/** Wraps a dead-letter sink: counts every letter written (metric crowdpulse_dead_letters_total, and per code for the run summary). */
export class CountingDeadLetterSink implements DeadLetterSink {
  readonly byCode = new Map<string, number>();
  constructor(private readonly inner: DeadLetterSink) {}

  get total(): number {
    let sum = 0;
    for (const n of this.byCode.values()) sum += n;
    return sum;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    await this.inner.write(letters);
    for (const l of letters) {
      this.byCode.set(l.code, (this.byCode.get(l.code) ?? 0) + 1);
      deadLettersTotal.inc({ stage: l.stage, code: l.code });
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
