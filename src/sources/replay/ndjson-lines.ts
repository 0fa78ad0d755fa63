import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/** One line of a recorded file, as raw bytes (not decoded: invalid UTF-8 must be seen, not replaced). */
export interface RawLine {
  readonly bytes: Buffer;
  /** 1-based line number. */
  readonly lineNo: number;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

/**
 * Lines of an ndjson file, gzip or plain (detected by magic bytes), split on \n with a trailing \r
 * removed. Blank lines are skipped (they are keep-alives in recorded streams).
 */
export async function* readNdjsonLines(path: string, signal?: AbortSignal): AsyncGenerator<RawLine> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const input = (await isGzip(path)) ? file.pipe(createGunzip()) : file;
  let pending: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (signal?.aborted) return;
      let buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = buffer.indexOf(0x0a, start); nl !== -1; nl = buffer.indexOf(0x0a, start)) {
        lineNo += 1;
        const end = nl > start && buffer[nl - 1] === 0x0d ? nl - 1 : nl;
        if (end > start) yield { bytes: buffer.subarray(start, end), lineNo };
        start = nl + 1;
      }
      pending = start < buffer.length ? Buffer.from(buffer.subarray(start)) : Buffer.alloc(0);
      buffer = Buffer.alloc(0);
    }
    if (pending.length > 0) {
      lineNo += 1;
      const end = pending[pending.length - 1] === 0x0d ? pending.length - 1 : pending.length;
      if (end > 0) yield { bytes: pending.subarray(0, end), lineNo };
    }
  } finally {
    file.destroy();
  }
}
