import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { LineFramer, type Frame, type FramerLimits } from '../line-framer.js';

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
 * removed, as raw bytes (invalid UTF-8 must be seen, not replaced). Blank lines are skipped (they
 * are keep-alives in recorded streams). A line over `limits.maxLineBytes` comes as an oversized
 * frame, and never costs more memory than that.
 */
export async function* readNdjsonLines(path: string, limits: FramerLimits, signal?: AbortSignal): AsyncGenerator<Frame> {
  for await (const frames of readNdjsonChunks(path, limits, signal)) yield* frames;
}

/** Read size of the file and of the gunzip output: 1 MiB pieces (zlib's default is 16 KiB). */
const CHUNK_BYTES = 1 << 20;

/**
 * The same lines, handed on a chunk at a time: the frames of each piece read, in order. Readers
 * that go through millions of lines use this, so that a line costs no promise of its own.
 */
export async function* readNdjsonChunks(path: string, limits: FramerLimits, signal?: AbortSignal): AsyncGenerator<Frame[]> {
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const input = (await isGzip(path)) ? file.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : file;
  const framer = new LineFramer(limits);
  let frames: Frame[] = [];
  const collect = (frame: Frame): void => {
    if (frame.kind === 'oversized' || frame.bytes.length > 0) frames.push(frame);
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (signal?.aborted) return;
      framer.push(chunk, collect);
      // The frames hold views of `chunk`: the reader is done with them before the next chunk is read.
      if (frames.length > 0) yield frames;
      frames = [];
    }
    framer.end(collect);
    if (frames.length > 0) yield frames;
  } finally {
    file.destroy();
  }
}
