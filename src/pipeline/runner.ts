import { BoundedQueue } from './bounded-queue.js';
import type { Batch, Sink, Source, Transform } from './component.js';
import { Rebatcher, type BatchingPolicy } from './rebatch.js';

export interface StageOptions {
  /** Batches processed at once by this stage. */
  readonly concurrency: number;
  /** Merge/split input batches before the stage (dynamic batching); none → batches pass as they come. */
  readonly batching?: BatchingPolicy;
  /** Items (not batches) the queue in front of this stage may hold. */
  readonly queueCapacity: number;
}

export interface PipelineSpec {
  readonly source: Source<unknown>;
  readonly transforms: readonly { readonly transform: Transform<unknown, unknown>; readonly options: StageOptions }[];
  readonly sink: { readonly sink: Sink<unknown>; readonly options: StageOptions };
  /** Called after each batch is durable and acked, with its item count. */
  readonly onStored?: (items: readonly unknown[]) => void;
}

export interface RunningPipeline {
  /** Queues in order: the one in front of each transform, then the one in front of the sink. */
  readonly queues: readonly BoundedQueue<Batch<unknown>>[];
  /** Resolves when the source is exhausted (or stopped) and everything in flight is durable; rejects on a stage failure. */
  readonly done: Promise<void>;
  /** Stop reading the source; what is in flight finishes and is acked. */
  stop(): void;
}

export class StageError extends Error {
  readonly code = 'CP_STAGE_FAILED';
  constructor(readonly stage: string, cause: unknown) {
    super(`stage ${stage} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

const itemCount = (batch: Batch<unknown>): number => Math.max(1, batch.items.length);

/**
 * Runs source → transforms → sink over bounded queues. Backpressure is end to end: a slow sink
 * fills its queue, which blocks the transform before it, and so on up to the source, which is
 * only pulled when the first queue has room. A batch is acked after the sink made it durable.
 */
export function runPipeline(spec: PipelineSpec): RunningPipeline {
  const stopSource = new AbortController();
  const stages = [...spec.transforms.map((t) => ({ name: t.transform.name, options: t.options })), { name: spec.sink.sink.name, options: spec.sink.options }];
  const queues = stages.map((s) => new BoundedQueue<Batch<unknown>>(`${s.name}.in`, s.options.queueCapacity, itemCount));
  let failure: StageError | undefined;

  const fail = (stage: string, cause: unknown): void => {
    if (!failure) failure = new StageError(stage, cause);
    stopSource.abort();
    for (const q of queues) q.close();
  };

  const pumpSource = async (): Promise<void> => {
    const first = queues[0] as BoundedQueue<Batch<unknown>>;
    try {
      for await (const batch of spec.source.batches(stopSource.signal)) {
        if (failure) break;
        await first.push(batch);
      }
    } catch (e) {
      if (!failure) fail(spec.source.name, e);
    } finally {
      first.close();
    }
  };

  const runStage = async (index: number, handle: (batch: Batch<unknown>) => Promise<void>): Promise<void> => {
    const input = queues[index] as BoundedQueue<Batch<unknown>>;
    const { concurrency, batching } = (stages[index] as (typeof stages)[number]).options;
    const next = batching ? serialised(new Rebatcher(input, batching)) : () => input.shift();
    const loop = async (): Promise<void> => {
      for (;;) {
        const batch = await next();
        if (batch === undefined || failure) return;
        try {
          await handle(batch);
        } catch (e) {
          fail((stages[index] as (typeof stages)[number]).name, e);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, loop));
    queues[index + 1]?.close();
  };

  const running = [pumpSource()];
  spec.transforms.forEach(({ transform }, i) => {
    const output = queues[i + 1] as BoundedQueue<Batch<unknown>>;
    running.push(runStage(i, async (batch) => output.push(await transform.apply(batch))));
  });
  running.push(
    runStage(spec.transforms.length, async (batch) => {
      await spec.sink.sink.write(batch.items);
      batch.ack();
      spec.onStored?.(batch.items);
    }),
  );

  const done = Promise.all(running).then(() => {
    if (failure) throw failure;
  });
  return { queues, done, stop: () => stopSource.abort() };
}

/** Rebatcher.next() must not run twice at once: stages with concurrency > 1 share one. */
function serialised<T>(rebatcher: Rebatcher<T>): () => Promise<Batch<T> | undefined> {
  let tail: Promise<unknown> = Promise.resolve();
  return () => {
    const result = tail.then(() => rebatcher.next());
    tail = result.catch(() => undefined);
    return result;
  };
}
