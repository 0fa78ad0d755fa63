import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { parsePrometheusText } from '../../src/dashboard/samples.js';
import { CrowdpulseProcess, FIXTURES, eventually, freePort, haveFastModel, need } from './support.js';
import { prometheusBinary, promtoolCheckMetrics, startPrometheus, type PrometheusServer } from './prometheus-server.js';

const dir = tempDir('prometheus');

/**
 * prom-client's default process metrics name three gauges *_total (nodejs_active_handles_total, …);
 * they are prom-client's names, kept for compatibility with its dashboards. Everything else must lint clean.
 */
const PROM_CLIENT_DEFAULT_NAMES = /^crowdpulse_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

test('a real Prometheus scrapes two crowdpulse processes and reads their throughput through its query API', { timeout: 180_000 }, async (t) => {
  if (!need(t, prometheusBinary() !== undefined, 'prometheus', 'bash scripts/prometheus.sh install')) return;
  if (!need(t, haveFastModel(), 'models/fast/model.json', 'train the fast model (models/training/train_fast.py)')) return;
  const rates = [150, 100];
  const ports = await Promise.all(rates.map(() => freePort()));
  const env = { CROWDPULSE_REPLAY_BATCH_SIZE: '16', CROWDPULSE_LOG_PROGRESS: 'off' };
  const roles = rates.map(
    (rate, i) =>
      new CrowdpulseProcess(
        ['run', '--input', FIXTURES, '--mode', 'rate', '--rate', String(rate), '--threads', '1', '--db', join(dir, `run${i}.db`), '--port', String(ports[i])],
        { ...env, CROWDPULSE_DEAD_LETTER_PATH: join(dir, `dead${i}.ndjson`) },
      ),
  );
  let prometheus: PrometheusServer | undefined;
  try {
    await Promise.all(
      ports.map((port) =>
        eventually(`crowdpulse on :${port} ready`, async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 90_000),
      ),
    );

    // The exposition lints clean and carries the inference workers' own metrics, merged.
    const exposition = await eventually(
      'worker metrics on /metrics',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${ports[0]}/metrics`)).text();
        return text.includes('crowdpulse_worker_posts_total{') ? text : undefined;
      },
      30_000,
    );
    const lint = promtoolCheckMetrics(exposition);
    const problems = lint.problems.split('\n').filter((l) => l !== '' && !PROM_CLIENT_DEFAULT_NAMES.test(l));
    assert.deepEqual(problems, [], `promtool check metrics:\n${lint.problems}`);
    const samples = parsePrometheusText(exposition);
    assert.deepEqual(samples.errors, []);
    assert.ok(samples.samples.some((s) => s.name === 'crowdpulse_worker_inference_seconds_count' && s.labels.phase === 'model' && s.value > 0));

    prometheus = await startPrometheus(
      dir,
      ports.map((p) => `127.0.0.1:${p}`),
      1,
    );
    const server = prometheus;
    const targets = await eventually(
      'both targets up',
      async () => {
        const list = await server.targets();
        return list.length === 2 && list.every((x) => x.health === 'up') ? list : undefined;
      },
      30_000,
    );
    assert.equal(targets.length, 2);

    // Throughput per process, as Prometheus computes it from the scraped counters.
    const WINDOW = '10s';
    const measured = await eventually(
      'a full rate window per target',
      async () => {
        const result = await server.query(`sum by (instance) (rate(crowdpulse_posts_total{stage="store",direction="out"}[${WINDOW}]))`);
        const up = await server.query('count_over_time(up{job="crowdpulse"}[1m])');
        // Wait for more than one window of samples from each target.
        return result.length === 2 && up.every((u) => Number(u.value[1]) >= 14) ? result : undefined;
      },
      60_000,
    );
    for (const [i, port] of ports.entries()) {
      const series = measured.find((r) => r.metric.instance === `127.0.0.1:${port}`);
      assert.ok(series, `a rate for 127.0.0.1:${port}`);
      const rate = Number(series.value[1]);
      t.diagnostic(`measured store throughput of process ${i} (replay --rate ${rates[i]}): ${rate.toFixed(1)} posts/s over ${WINDOW}`);
      assert.ok(Math.abs(rate - rates[i]!) <= rates[i]! * 0.25, `process ${i}: Prometheus measured ${rate.toFixed(1)} posts/s, replayed at ${rates[i]}/s`);
    }
    const total = Number((await server.query(`sum(rate(crowdpulse_posts_total{stage="store",direction="out"}[${WINDOW}]))`))[0]?.value[1]);
    assert.ok(Math.abs(total - 250) <= 250 * 0.25, `both processes together: ${total}`);
  } finally {
    await prometheus?.stop();
    await Promise.all(roles.map((r) => r.stop()));
  }
});
