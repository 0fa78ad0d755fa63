import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { logger } from '../../telemetry/log.js';
import { followStream, type FollowerOptions } from './follower.js';

const log = logger('x.record');

export interface RecordOptions extends FollowerOptions {
  /** Output file; gzip when it ends in .gz. */
  readonly out: string;
  /** Stop after this many messages (0 = until the signal). */
  readonly limit: number;
}

/**
 * Saves the live filtered stream as ndjson: every message exactly as X sent it, one per line, so that the
 * replay source plays it back (malformed lines included: the replay dead-letters them as the live source
 * would). Same reconnect and budget rules as the live source. Resolves with the number of messages written.
 */
export async function recordStream(opts: RecordOptions, signal: AbortSignal): Promise<number> {
  await mkdir(dirname(opts.out), { recursive: true });
  const out = new PassThrough();
  const written = opts.out.endsWith('.gz') ? pipeline(out, createGzip(), createWriteStream(opts.out)) : pipeline(out, createWriteStream(opts.out));
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let count = 0;
  let resume: (() => void) | undefined;
  out.on('drain', () => resume?.());
  try {
    await followStream(
      opts,
      {
        onMessage: (frame) => {
          if (ac.signal.aborted) return;
          if (frame.kind === 'oversized') {
            // Cannot be kept whole: say so (the live source dead-letters it the same way).
            log.warn('message over limits.maxMessageBytes not recorded', { bytes: frame.message.length, sha256: frame.message.sha256 });
            return;
          }
          out.write(Buffer.concat([frame.bytes, Buffer.from('\n')]));
          count++;
          if (opts.limit > 0 && count >= opts.limit) ac.abort();
        },
        hasRoom: () => out.writableLength < out.writableHighWaterMark,
        setResume: (r) => {
          resume = r;
        },
      },
      ac.signal,
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
    opts.governor?.flush();
    out.end();
    await written;
  }
  return count;
}
