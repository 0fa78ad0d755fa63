import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { DeadLetter } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';

/**
 * Dead letters as ndjson lines: stage, code, reason, origin, time, and the original bytes in base64
 * (they may not be valid UTF-8), so that a refused message can be inspected and replayed.
 */
export class FileDeadLetterSink implements DeadLetterSink {
  readonly #out: WriteStream;
  #count = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#out = createWriteStream(path, { flags: 'a' });
  }

  get count(): number {
    return this.#count;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const text = letters.map((l) => JSON.stringify({
      stage: l.stage,
      code: l.code,
      reason: l.reason,
      origin: l.origin,
      at: new Date(l.at).toISOString(),
      original_base64: Buffer.from(l.original).toString('base64'),
    })).join('\n') + '\n';
    this.#count += letters.length;
    if (!this.#out.write(text)) await new Promise<void>((resolve) => this.#out.once('drain', resolve));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.#out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}
