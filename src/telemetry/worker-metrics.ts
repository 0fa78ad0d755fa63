import { BroadcastChannel, threadId } from 'node:worker_threads';
import { AggregatorRegistry, type Metric, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

/**
 * prom-client has nothing for worker_threads: each worker keeps its own registry and posts
 * `getMetricsAsJSON()` on a BroadcastChannel; the main thread keeps the latest snapshot per worker
 * and, at scrape time, merges them with `AggregatorRegistry.aggregate()` (sum per label set) into
 * metrics registered on the role's registry. Snapshots of workers that ended are kept, so counters
 * never go backwards.
 */
const CHANNEL = 'crowdpulse:worker-metrics';

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];
interface SnapshotMessage {
  readonly threadId: number;
  readonly metrics: Snapshot;
}

export interface WorkerMetricDefinition {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
}

export interface WorkerMetricsPublisher {
  /** Posts the current values now (e.g. right after a task). */
  flush(): Promise<void>;
  stop(): void;
}

/** Worker side: posts the registry's values every `everyMs` (and on flush()). */
export function publishWorkerMetrics(registry: Registry, everyMs = 1000): WorkerMetricsPublisher {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  const flush = async (): Promise<void> => {
    const message: SnapshotMessage = { threadId, metrics: await registry.getMetricsAsJSON() };
    channel.postMessage(message);
  };
  const timer = setInterval(() => void flush(), everyMs);
  timer.unref();
  return {
    flush,
    stop: () => {
      clearInterval(timer);
      channel.close();
    },
  };
}

const snapshots = new Map<number, Snapshot>();
let listening: BroadcastChannel | undefined;

function listen(): void {
  if (listening) return;
  listening = new BroadcastChannel(CHANNEL);
  listening.unref();
  listening.onmessage = (event: unknown) => {
    const data = (event as { data?: SnapshotMessage }).data;
    if (data && typeof data.threadId === 'number' && Array.isArray(data.metrics)) snapshots.set(data.threadId, data.metrics);
  };
}

/** Merged values of one worker metric over every worker seen so far. */
export async function aggregatedWorkerMetric(name: string): Promise<MetricObjectWithValues<MetricValue<string>> | undefined> {
  const metric = AggregatorRegistry.aggregate([...snapshots.values()]).getSingleMetric(name);
  return metric ? await metric.get() : undefined;
}

/**
 * Main side: registers the workers' metrics on `target` (idempotent) and starts listening. The
 * values appear in `target.metrics()` / `getMetricsAsJSON()` like any other metric.
 */
export function mergeWorkerMetrics(target: Registry, definitions: readonly WorkerMetricDefinition[]): void {
  listen();
  for (const def of definitions) {
    if (target.getSingleMetric(def.name)) continue;
    const proxy = {
      name: def.name,
      help: def.help,
      type: def.type,
      aggregator: 'sum',
      get: async () => (await aggregatedWorkerMetric(def.name)) ?? { name: def.name, help: def.help, type: def.type, values: [], aggregator: 'sum' },
      reset: () => undefined,
    };
    target.registerMetric(proxy as unknown as Metric);
  }
}
