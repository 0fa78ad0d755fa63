import { endToEndSeconds, postsTotal, stageBatchSize, stageErrorsTotal, stageItemsTotal, stageSeconds } from '../telemetry/metrics.js';
import { CrowdpulseError } from '../errors.js';
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
  /** Called after each batch is durable and acked, with its items and how many of them the sink made durable (the rest it dead-lettered). */
  readonly onStored?: (items: readonly unknown[], durable: number) => void;
  /** Letters the sink wrote so far: those items were in its batches but are not durable downstream. */
  readonly sinkDeadLetters?: { readonly count: number };
}

export interface RunningPipeline {
  /** Queues in order: the one in front of each transform, then the one in front of the sink. */
  readonly queues: readonly BoundedQueue<Batch<unknown>>[];
  /** Resolves when the source is exhausted (or stopped) and everything in flight is durable; rejects on a stage failure. */
  readonly done: Promise<void>;
  /** Stop reading the source; what is in flight finishes and is acked. */
  stop(): void;
}

export class StageError extends CrowdpulseError<'CP_STAGE_FAILED'> {
  constructor(
    readonly stage: string,
    cause: unknown,
  ) {
    super('CP_STAGE_FAILED', `stage ${stage} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
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
      const measure = measureSource(spec.source);
      try {
        for await (const batch of spec.source.batches(stopSource.signal)) {
          if (failure) break;
          measure(batch.items.length);
          await first.push(batch);
        }
      } finally {
        // Lines read after the last batch (dead-lettered ones) count as read too.
        measure(0);
      }
    } catch (e) {
      if (!failure) fail(spec.source.name, e);
    } finally {
      first.close();
    }
  };

  /**
   * `inTurn(emit)` runs `emit` once every batch taken before this one has emitted: a stage with
   * concurrency > 1 (the inference pool's workers) hands batches on in the order it took them, so
   * the store sees event time as the source read it (a batch finished early no longer overtakes an
   * earlier one, which moved the shift detector's watermark past posts still on their way).
   */
  const runStage = async (
    index: number,
    handle: (batch: Batch<unknown>, inTurn: (emit: () => Promise<void>) => Promise<void>) => Promise<void>,
  ): Promise<void> => {
    const input = queues[index] as BoundedQueue<Batch<unknown>>;
    const { concurrency, batching } = (stages[index] as (typeof stages)[number]).options;
    const next = batching ? serialised(new Rebatcher(input, batching)) : () => input.shift();
    let lastTurn: Promise<void> = Promise.resolve();
    const loop = async (): Promise<void> => {
      for (;;) {
        const batch = await next();
        if (batch === undefined || failure) return;
        // This batch's turn comes after the turn of every batch taken before it.
        const previous = lastTurn;
        let done!: () => void;
        lastTurn = new Promise<void>((resolve) => (done = resolve));
        const inTurn = async (emit: () => Promise<void>): Promise<void> => {
          await previous;
          await emit();
        };
        const { name } = stages[index] as (typeof stages)[number];
        stageItemsTotal.inc({ component: name, direction: 'in' }, batch.items.length);
        stageBatchSize.observe({ component: name }, batch.items.length);
        const timer = stageSeconds.startTimer({ component: name });
        try {
          await handle(batch, inTurn);
        } catch (e) {
          stageErrorsTotal.inc({ component: name });
          fail(name, e);
          return;
        } finally {
          // A failed batch never emits: the ones after it are not held (the run is failing anyway).
          void previous.then(done);
        }
        timer();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, loop));
    queues[index + 1]?.close();
  };

  const running = [pumpSource()];
  spec.transforms.forEach(({ transform }, i) => {
    const output = queues[i + 1] as BoundedQueue<Batch<unknown>>;
    running.push(
      runStage(i, async (batch, inTurn) => {
        if (transform.stage) postsTotal.inc({ stage: transform.stage, direction: 'in' }, batch.items.length);
        const result = await transform.apply(batch);
        stageItemsTotal.inc({ component: transform.name, direction: 'out' }, result.items.length);
        if (transform.stage) postsTotal.inc({ stage: transform.stage, direction: 'out' }, result.items.length);
        await inTurn(() => output.push(result));
      }),
    );
  });
  const { sink } = spec.sink;
  let sinkLettersSeen = 0;
  running.push(
    runStage(spec.transforms.length, async (batch) => {
      const n = batch.items.length;
      if (sink.stage === 'store') postsTotal.inc({ stage: 'store', direction: 'in' }, n);
      await sink.write(batch.items);
      // Items the sink dead-lettered were refused, not made durable.
      const letters = spec.sinkDeadLetters?.count ?? 0;
      const durable = Math.max(0, n - (letters - sinkLettersSeen));
      sinkLettersSeen = letters;
      stageItemsTotal.inc({ component: sink.name, direction: 'out' }, durable);
      if (sink.stage === 'store') {
        postsTotal.inc({ stage: 'store', direction: 'out' }, durable);
        observeEndToEnd(batch.items);
      }
      batch.ack();
      spec.onStored?.(batch.items, durable);
    }),
  );

  const done = Promise.all(running).then(() => {
    if (failure) throw failure;
  });
  return { queues, done, stop: () => stopSource.abort() };
}

/** Counts what a source emits; an ingest source also counts what it read (items plus the messages it dead-lettered). */
function measureSource(source: Source<unknown>): (items: number) => void {
  let readSeen = 0;
  return (items) => {
    if (items > 0) {
      stageItemsTotal.inc({ component: source.name, direction: 'out' }, items);
      stageBatchSize.observe({ component: source.name }, items);
    }
    if (source.stage !== 'ingest') return;
    const read = source.messagesRead;
    postsTotal.inc({ stage: 'ingest', direction: 'in' }, read === undefined ? items : Math.max(0, read - readSeen));
    if (read !== undefined) readSeen = read;
    postsTotal.inc({ stage: 'ingest', direction: 'out' }, items);
  };
}

/** End-to-end latency of every post a store sink made durable: now − its ingestion time. */
function observeEndToEnd(items: readonly unknown[]): void {
  const now = Date.now();
  for (const item of items) {
    const ingestedAt = (item as { readonly ingestedAt?: unknown }).ingestedAt;
    if (typeof ingestedAt === 'number') endToEndSeconds.observe(Math.max(0, now - ingestedAt) / 1000);
  }
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
