import { threadId } from 'node:worker_threads';
import { Counter, Histogram, Registry } from 'prom-client';
import { publishWorkerMetrics, type WorkerMetricDefinition } from '../../telemetry/worker-metrics.js';

/** Metrics each inference worker keeps about itself (merged into the role's registry by the pool). */
export const SENTIMENT_WORKER_METRICS: readonly WorkerMetricDefinition[] = [
  {
    name: 'crowdpulse_worker_inference_seconds',
    help: 'Time of one batch inside an inference worker, by phase (encode = tokenization, model = onnxruntime) and worker thread.',
    type: 'histogram',
  },
  { name: 'crowdpulse_worker_posts_total', help: 'Posts scored by each inference worker thread.', type: 'counter' },
];

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Worker side: the worker's own registry, published to the main thread every second. */
export function sentimentWorkerMetrics(): { record(posts: number, encodeSeconds: number, modelSeconds: number): void; flush(): Promise<void> } {
  const registry = new Registry();
  const worker = String(threadId);
  const [secondsDef, postsDef] = SENTIMENT_WORKER_METRICS as [WorkerMetricDefinition, WorkerMetricDefinition];
  const seconds = new Histogram({
    name: secondsDef.name,
    help: secondsDef.help,
    labelNames: ['phase', 'worker'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const posts = new Counter({ name: postsDef.name, help: postsDef.help, labelNames: ['worker'] as const, registers: [registry] });
  const publisher = publishWorkerMetrics(registry);
  return {
    flush: () => publisher.flush(),
    record(n, encodeSeconds, modelSeconds) {
      seconds.observe({ phase: 'encode', worker }, encodeSeconds);
      seconds.observe({ phase: 'model', worker }, modelSeconds);
      posts.inc({ worker }, n);
    },
  };
}
