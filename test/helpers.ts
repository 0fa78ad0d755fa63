import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '../src/contract/index.js';
import type { DeadLetterSink } from '../src/pipeline/component.js';

/** A fresh temporary directory for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cp-${prefix}-`));
}

/** Dead letters kept in memory, for assertions. */
export class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async write(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
  }
  async close(): Promise<void> {}
}

/** Repository root, from a test file's location. */
export const ROOT = new URL('..', import.meta.url).pathname;
