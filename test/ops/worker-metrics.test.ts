import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { typescriptWorkerExecArgv } from '../../src/pipeline/worker-exec-argv.js';
import { SENTIMENT_WORKER_METRICS } from '../../src/transforms/sentiment/worker-metrics.js';
import { mergeWorkerMetrics } from '../../src/telemetry/worker-metrics.js';
import { parsePrometheusText } from '../../src/dashboard/samples.js';
import { eventually } from './support.js';

const WORKER = fileURLToPath(new URL('./fixtures/metrics-worker.ts', import.meta.url));
const ENTRY = new URL('./fixtures/ts-worker-entry.mjs', import.meta.url);

/** Starts a worker that records `batches` and flushes; resolves with its thread id once it has (it may then exit). */
function startWorker(batches: number[]): Promise<{ worker: Worker; id: string }> {
  const worker = new Worker(ENTRY, { workerData: { batches, tsFile: pathToFileURL(WORKER).href }, execArgv: typescriptWorkerExecArgv() });
  const id = String(worker.threadId);
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve({ worker, id }));
    worker.once('error', reject);
  });
}

test('metrics that worker threads record appear merged on the main registry, per worker and summed', async () => {
  const registry = new Registry();
  mergeWorkerMetrics(registry, SENTIMENT_WORKER_METRICS);
  mergeWorkerMetrics(registry, SENTIMENT_WORKER_METRICS); // idempotent: a second pool does not re-register
  const workers = await Promise.all([startWorker([10, 20, 30]), startWorker([5])]);
  const ids = workers.map((w) => w.id);
  try {
    const samples = await eventually(
      "both workers' snapshots",
      async () => {
        const parsed = parsePrometheusText(await registry.metrics());
        assert.deepEqual(parsed.errors, []);
        const posts = parsed.samples.filter((s) => s.name === 'crowdpulse_worker_posts_total' && ids.includes(s.labels.worker ?? ''));
        return posts.length === 2 ? parsed.samples : undefined;
      },
      10_000,
    );
    const of = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(of('crowdpulse_worker_posts_total', { worker: ids[0]! }), 60);
    assert.equal(of('crowdpulse_worker_posts_total', { worker: ids[1]! }), 5);
    assert.equal(of('crowdpulse_worker_inference_seconds_count', { worker: ids[0]!, phase: 'model' }), 3);
    assert.equal(of('crowdpulse_worker_inference_seconds_count', { worker: ids[1]!, phase: 'encode' }), 1);
    const modelSum = of('crowdpulse_worker_inference_seconds_sum', { worker: ids[0]!, phase: 'model' }) ?? NaN;
    assert.ok(Math.abs(modelSum - 0.09) < 1e-9, `sum of three 30 ms model phases: ${modelSum}`);
    assert.equal(of('crowdpulse_worker_inference_seconds_bucket', { worker: ids[0]!, phase: 'model', le: '0.025' }), 0);
    assert.equal(of('crowdpulse_worker_inference_seconds_bucket', { worker: ids[0]!, phase: 'model', le: '0.05' }), 3);
    // The JSON form (used by the dashboard) carries the merged values too.
    const json = await registry.getMetricsAsJSON();
    assert.ok(json.some((m) => m.name === 'crowdpulse_worker_posts_total' && m.values.length >= 2));
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
});
