import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeSync,
  type WriteStream,
} from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { deadLetterKey, err, ok, type DeadLetter, type Result } from '../../contract/index.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import { CrowdpulseError } from '../../errors.js';

/** A dead-letter path that cannot be written: one line for the user, code CP_DEAD_LETTER_PATH. */
export class DeadLetterPathError extends CrowdpulseError<'CP_DEAD_LETTER_PATH'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_DEAD_LETTER_PATH', message, options);
  }
}

/** One dead letter as a line of the file (an oversized message's line says so, with its length and hash). */
interface DeadLetterLine {
  readonly key: string;
  readonly stage: string;
  readonly code: string;
  readonly reason: string;
  readonly origin: string | undefined;
  readonly at: string;
  readonly original_base64: string;
  readonly truncated?: { readonly length: number; readonly sha256: string };
}

/**
 * Dead letters as ndjson lines: key, stage, code, reason, origin, time, and the original bytes in
 * base64 (they may not be valid UTF-8), so that a refused message can be inspected and replayed.
 * Idempotent like the rows: a letter whose key (stage, origin, code, content) the file already
 * holds is not written again, so reruns of the same input leave one line per refused message.
 */
export class FileDeadLetterSink implements DeadLetterSink {
  readonly #out: WriteStream;
  readonly #keys: Set<string>;
  #failure: Error | undefined;
  #count = 0;

  private constructor(
    readonly path: string,
    out: WriteStream,
    keys: Set<string>,
  ) {
    this.#out = out;
    this.#keys = keys;
    // A write error (disk full, file removed under us) fails the next write instead of crashing the process.
    out.on('error', (e) => {
      this.#failure ??= new DeadLetterPathError(`dead-letter file ${path}: ${e.message}`);
    });
  }

  /**
   * Checks at start that `path` can be appended to (its folder is created), and reads the keys it
   * already holds. Every problem is one line naming the path and the setting.
   */
  static async open(path: string): Promise<Result<FileDeadLetterSink, DeadLetterPathError>> {
    const problem = (what: string): Result<never, DeadLetterPathError> =>
      err(new DeadLetterPathError(`deadLetter.path = ${JSON.stringify(path)} (CROWDPULSE_DEAD_LETTER_PATH): ${what}`));
    let fd: number;
    try {
      if (existsSync(path) && !statSync(path).isFile()) return problem('is not a regular file');
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, 'a+');
    } catch (e) {
      return problem(`cannot be opened for appending (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let keys: Set<string>;
    try {
      keys = await keysIn(path);
      // A line cut by a crash mid-write: end it, so that the next letter starts a line of its own.
      if (!endsWithNewline(fd)) writeSync(fd, '\n');
    } catch (e) {
      closeSync(fd);
      return problem(`cannot be read (${(e as Error).message})`);
    }
    return ok(new FileDeadLetterSink(path, createWriteStream(path, { fd, flags: 'a' }), keys));
  }

  /** Letters written by this sink (not counting those the file already held). */
  get count(): number {
    return this.#count;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    this.#throwIfFailed();
    const lines: string[] = [];
    for (const l of letters) {
      const key = deadLetterKey(l);
      if (this.#keys.has(key)) continue;
      this.#keys.add(key);
      const line: DeadLetterLine = {
        key,
        stage: l.stage,
        code: l.code,
        reason: l.reason,
        origin: l.origin,
        at: new Date(l.at).toISOString(),
        original_base64: Buffer.from(l.original).toString('base64'),
        ...(l.truncated ? { truncated: l.truncated } : {}),
      };
      lines.push(JSON.stringify(line));
    }
    if (lines.length === 0) return;
    this.#count += lines.length;
    const flushed = this.#out.write(lines.join('\n') + '\n');
    if (!flushed) await new Promise<void>((resolve) => this.#out.once('drain', resolve).once('error', () => resolve()));
    this.#throwIfFailed();
  }

  /**
   * Throws the stream's write error, if one came. A method, not an inline check: the 'error'
   * listener sets it during an await, which TypeScript's narrowing of the field does not see.
   */
  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  async close(): Promise<void> {
    if (this.#out.closed || this.#out.destroyed) return;
    await new Promise<void>((resolve) => this.#out.end(() => resolve()));
    this.#throwIfFailed();
  }
}

function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

/** Keys of the letters a dead-letter file holds (lines of earlier versions without a key get theirs computed). */
async function keysIn(path: string): Promise<Set<string>> {
  const keys = new Set<string>();
  if (statSync(path).size === 0) return keys;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const text of lines) {
    if (text.trim() === '') continue;
    let line: Partial<DeadLetterLine>;
    try {
      line = JSON.parse(text) as Partial<DeadLetterLine>;
    } catch {
      continue; // a line cut by a crash mid-write: nothing to match against
    }
    if (typeof line.key === 'string') keys.add(line.key);
    else if (typeof line.stage === 'string' && typeof line.code === 'string' && typeof line.original_base64 === 'string') {
      keys.add(
        deadLetterKey({
          stage: line.stage as DeadLetter['stage'],
          code: line.code as DeadLetter['code'],
          origin: line.origin,
          original: Buffer.from(line.original_base64, 'base64'),
          reason: '',
          at: 0,
        }),
      );
    }
  }
  return keys;
}
