/**
 * Piscina worker: scored posts → line protocol → (gzip). Used when influxdb.encoder = pool.
 * The same pure functions run on the main thread when encoder = main (the default; see the
 * measurement in bench/influxdb-encode.ts and the README).
 */
import { gzipSync } from 'node:zlib';
import type { ScoredPost } from '../src/contract/index.js';
import { encodePosts } from '../src/sinks/influxdb/line-protocol.js';

export interface LineProtocolTask {
  readonly posts: readonly ScoredPost[];
  readonly measurement: string;
  readonly gzipMinBytes: number;
  readonly gzipLevel: number;
}

export interface LineProtocolResult {
  readonly body: Uint8Array;
  readonly gzip: boolean;
  readonly points: number;
  readonly rawBytes: number;
  readonly rejected: readonly { readonly index: number; readonly reason: string }[];
}

export default function encode(task: LineProtocolTask): LineProtocolResult {
  const { text, points, rejected } = encodePosts(task.posts, task.measurement);
  const raw = Buffer.from(text, 'utf8');
  const gzip = raw.byteLength >= task.gzipMinBytes;
  const body = gzip ? gzipSync(raw, { level: task.gzipLevel }) : raw;
  return { body, gzip, points, rawBytes: raw.byteLength, rejected };
}
