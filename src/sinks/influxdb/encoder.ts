/**
 * Where batches become request bodies: on the main thread (line protocol in JS, gzip on zlib's
 * libuv thread pool) or in a Piscina pool (both in a worker). Same functions, same output.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Piscina } from 'piscina';
import type { ScoredPost } from '../../contract/index.js';
import { typescriptWorkerExecArgv } from '../../pipeline/worker-exec-argv.js';
import { logger } from '../../telemetry/log.js';
import type { LineProtocolResult, LineProtocolTask } from '../../../workers/line-protocol.worker.js';
import { encodePosts } from './line-protocol.js';

const gzip = promisify(gzipCb);
const WORKER = fileURLToPath(new URL('../../../workers/line-protocol.worker.ts', import.meta.url));
const log = logger('influxdb-encoder');

export type EncodedBatch = LineProtocolResult;

export interface EncoderOptions {
  readonly measurement: string;
  readonly gzipMinBytes: number;
  readonly gzipLevel: number;
}

export interface BatchEncoder {
  readonly kind: 'main' | 'pool';
  encode(posts: readonly ScoredPost[]): Promise<EncodedBatch>;
  close(): Promise<void>;
}

export class MainThreadEncoder implements BatchEncoder {
  readonly kind = 'main';
  constructor(private readonly o: EncoderOptions) {}

  async encode(posts: readonly ScoredPost[]): Promise<EncodedBatch> {
    const { text, points, rejected } = encodePosts(posts, this.o.measurement);
    const raw = Buffer.from(text, 'utf8');
    const useGzip = raw.byteLength >= this.o.gzipMinBytes;
    const body = useGzip ? await gzip(raw, { level: this.o.gzipLevel }) : raw;
    return { body, gzip: useGzip, points, rawBytes: raw.byteLength, rejected };
  }

  async close(): Promise<void> {}
}

export class PoolEncoder implements BatchEncoder {
  readonly kind = 'pool';
  readonly #pool: Piscina<LineProtocolTask, LineProtocolResult>;

  constructor(
    private readonly o: EncoderOptions,
    threads: number,
  ) {
    const n = threads > 0 ? threads : availableParallelism();
    this.#pool = new Piscina<LineProtocolTask, LineProtocolResult>({
      filename: WORKER,
      minThreads: n,
      maxThreads: n,
      idleTimeout: 60_000,
      execArgv: typescriptWorkerExecArgv(),
    });
    this.#pool.on('error', (e: unknown) => log.error('line-protocol worker failed', { error: (e as Error).message }));
  }

  encode(posts: readonly ScoredPost[]): Promise<EncodedBatch> {
    return this.#pool.run({ posts, measurement: this.o.measurement, gzipMinBytes: this.o.gzipMinBytes, gzipLevel: this.o.gzipLevel });
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}

export function buildEncoder(kind: 'main' | 'pool', o: EncoderOptions, threads: number): BatchEncoder {
  return kind === 'pool' ? new PoolEncoder(o, threads) : new MainThreadEncoder(o);
}
