import { existsSync, statSync } from 'node:fs';
import { deadLetter, err, ok, oversizedDeadLetter, postFromStreamBytes, type DeadLetter, type Post, type Result } from '../../contract/index.js';
import type { FramerLimits } from '../line-framer.js';
import type { Batch, DeadLetterSink, Source } from '../../pipeline/component.js';
import { readNdjsonChunks } from './ndjson-lines.js';
import { fixedRate, recordedPace, unpaced, type Pacer } from './pacer.js';
import { CrowdpulseError } from '../../errors.js';

export interface ReplayOptions {
  readonly path: string;
  readonly mode: 'max' | 'rate' | 'recorded';
  readonly rate: number;
  readonly speed: number;
  readonly batchSize: number;
  /** Stop after this many lines (0 = all). */
  readonly limit: number;
  /** Longest line read whole (limits.maxMessageBytes), and what an oversized one keeps. */
  readonly lineLimits: FramerLimits;
  /** Extra pacing on top of the mode, e.g. the X API rate governor. */
  readonly governor?: Pacer;
  readonly now?: () => number;
}

/**
 * Plays back a recorded stream (ndjson, optionally gzip; one X API v2 stream message per line).
 * Each line is validated into a Post; a line that fails goes to the dead-letter sink with
 * file:line and the reason, and the replay goes on.
 */
export class ReplaySource implements Source<Post> {
  readonly name = 'replay';
  readonly stage = 'ingest' as const;
  #linesRead = 0;

  private constructor(
    private readonly options: ReplayOptions,
    private readonly deadLetters: DeadLetterSink,
  ) {}

  /** Refuses a path that does not exist or is not a file, with a message that names it. */
  static open(options: ReplayOptions, deadLetters: DeadLetterSink): Result<ReplaySource, Error> {
    if (!existsSync(options.path)) return err(new CrowdpulseError('CP_SOURCE_PATH', `replay file ${options.path} does not exist`));
    if (!statSync(options.path).isFile()) return err(new CrowdpulseError('CP_SOURCE_PATH', `replay path ${options.path} is not a file`));
    return ok(new ReplaySource(options, deadLetters));
  }

  /** Lines read so far (each becomes a post or a dead letter). */
  get messagesRead(): number {
    return this.#linesRead;
  }

  async *batches(signal: AbortSignal): AsyncGenerator<Batch<Post>> {
    const { mode, rate, speed, limit, path } = this.options;
    const pacer: Pacer = mode === 'rate' ? fixedRate(rate) : mode === 'recorded' ? recordedPace(speed) : unpaced;
    // Paced modes emit small batches so that pacing is smooth (about 50 batches a second at most).
    const batchSize = mode === 'rate' ? Math.max(1, Math.min(this.options.batchSize, Math.round(rate / 50))) : mode === 'recorded' ? 1 : this.options.batchSize;
    const now = this.options.now ?? Date.now;
    let posts: Post[] = [];
    let letters: DeadLetter[] = [];

    const flush = async (): Promise<Batch<Post> | undefined> => {
      if (letters.length > 0) {
        await this.deadLetters.write(letters);
        letters = [];
      }
      if (posts.length === 0) return undefined;
      const items = posts;
      posts = [];
      const last = items[items.length - 1] as Post;
      await pacer.admit(items.length, Date.parse(last.createdAt), signal);
      try {
        await this.options.governor?.admit(items.length, Date.parse(last.createdAt), signal);
      } catch (e) {
        // Stopped while waiting for budget: these posts were never admitted, so they are not emitted.
        if (signal.aborted) return undefined;
        throw e;
      }
      if (signal.aborted) return undefined;
      return { items, ack: () => undefined };
    };

    reading: for await (const lines of readNdjsonChunks(path, this.options.lineLimits, signal)) {
      for (const line of lines) {
        if (signal.aborted || (limit > 0 && this.#linesRead >= limit)) break reading;
        this.#linesRead += 1;
        if (line.kind === 'oversized') {
          letters.push(oversizedDeadLetter('ingest', line.message, this.options.lineLimits.maxLineBytes, `${path}:${line.lineNo}`));
        } else {
          const post = postFromStreamBytes(line.bytes, now());
          if (post.ok) posts.push(post.value);
          else letters.push(deadLetter('ingest', post.error.code, post.error.reason, Buffer.from(line.bytes), `${path}:${line.lineNo}`));
        }
        if (posts.length >= batchSize || letters.length >= batchSize) {
          const batch = await flush();
          if (batch) yield batch;
        }
      }
    }
    const last = await flush();
    if (last) yield last;
  }

  async close(): Promise<void> {}
}
