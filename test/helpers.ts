import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '../src/contract/index.js';
import type { DeadLetterSink } from '../src/pipeline/component.js';
import type { Logger } from '../src/telemetry/log.js';

/** Set to keep every test's temporary directories (they are kept anyway when a test file fails). */
const KEEP_TEMP_DIRS_ENV = 'CROWDPULSE_TEST_KEEP_TMP';

const tempDirs: string[] = [];
let cleanupRegistered = false;

/**
 * A fresh temporary directory for one test file, removed when the file's process exits with status
 * 0. A failed file keeps its directories (role logs, databases) to look at; so does
 * CROWDPULSE_TEST_KEEP_TMP=1. Before, every run left its directories behind: gigabytes in /tmp.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cp-${prefix}-`));
  tempDirs.push(dir);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.on('exit', (code) => {
      if (code !== 0 || process.env[KEEP_TEMP_DIRS_ENV]) return;
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Dead letters kept in memory, for assertions. */
export class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async write(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
  }
  async close(): Promise<void> {}
}

/** A Logger that keeps each line as "level message {fields as JSON}", for assertions. */
export function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Repository root, from a test file's location. */
export const ROOT = new URL('..', import.meta.url).pathname;
