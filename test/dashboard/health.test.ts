import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry } from 'prom-client';
import { healthFromSamples } from '../../src/dashboard/health.js';
import { parsePrometheusText, samplesOfRegistry } from '../../src/dashboard/samples.js';
import { chooseBucketSeconds } from '../../src/dashboard/sentiment-view.js';

function registryWith(values: { posts: number; lag?: number; cap?: number; consumed?: number }): Registry {
  const r = new Registry();
  const posts = new Counter({ name: 'crowdpulse_posts_total', help: 'h', labelNames: ['stage', 'direction'], registers: [r] });
  posts.inc({ stage: 'store', direction: 'out' }, values.posts);
  posts.inc({ stage: 'analyze', direction: 'out' }, values.posts + 1);
  const depth = new Gauge({ name: 'crowdpulse_queue_depth', help: 'h', labelNames: ['queue'], registers: [r] });
  const capacity = new Gauge({ name: 'crowdpulse_queue_capacity', help: 'h', labelNames: ['queue'], registers: [r] });
  depth.set({ queue: 'analyze→store' }, 17);
  capacity.set({ queue: 'analyze→store' }, 4096);
  const lag = new Gauge({ name: 'crowdpulse_kafka_consumer_lag_messages', help: 'h', labelNames: ['group', 'topic', 'partition'], registers: [r] });
  if (values.lag !== undefined) {
    lag.set({ group: 'g', topic: 't', partition: '0' }, values.lag);
    lag.set({ group: 'g', topic: 't', partition: '1' }, 1);
  }
  new Gauge({ name: 'crowdpulse_x_budget_cap_posts', help: 'h', registers: [r] }).set(values.cap ?? 0);
  new Gauge({ name: 'crowdpulse_x_budget_consumed_posts', help: 'h', registers: [r] }).set(values.consumed ?? 0);
  new Gauge({ name: 'crowdpulse_x_stream_connected', help: 'h', registers: [r] });
  return r;
}

test('the Prometheus text parser reads back exactly what prom-client exposes', async () => {
  const r = registryWith({ posts: 42, lag: 7, cap: 10_000, consumed: 1234 });
  r.setDefaultLabels({ role: 'store "a"\\b' });
  const parsed = parsePrometheusText(await r.metrics());
  assert.deepEqual(parsed.errors, []);
  const direct = await samplesOfRegistry(r);
  const key = (s: { name: string; labels: Record<string, string> }): string => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
  assert.deepEqual(new Map(parsed.samples.map((s) => [key(s), s.value])), new Map(direct.map((s) => [key(s), s.value])));
  assert.deepEqual(parsePrometheusText('good 1\nbad{x="1" 2\n').errors, ['bad{x="1" 2']);
});

test('pipeline health sums counters over processes and shows the governor and lag only where they run', async () => {
  const a = await samplesOfRegistry(registryWith({ posts: 100, lag: 50 }));
  const b = parsePrometheusText(await registryWith({ posts: 5, cap: 10_000, consumed: 1234 }).metrics()).samples;
  const h = healthFromSamples([
    { source: { name: 'a', ok: true }, samples: a },
    { source: { name: 'b', ok: true }, samples: b },
    { source: { name: 'c', ok: false, error: 'ECONNREFUSED' }, samples: [] },
  ]);
  assert.deepEqual(h.posts, [
    { stage: 'analyze', direction: 'out', total: 107 },
    { stage: 'store', direction: 'out', total: 105 },
  ]);
  assert.deepEqual(h.consumerLag, [{ group: 'g', topic: 't', messages: 51 }]);
  assert.deepEqual(
    h.queues.map((q) => [q.source, q.depth, q.capacity]),
    [
      ['a', 17, 4096],
      ['b', 17, 4096],
    ],
  );
  assert.equal(h.budget?.capPosts, 10_000);
  assert.equal(h.budget?.consumedPosts, 1234);
  assert.equal(h.stream, null, 'a stream gauge at 0 with no messages: no stream here');
  assert.deepEqual(
    h.sources.map((s) => s.ok),
    [true, true, false],
  );
  const none = healthFromSamples([{ source: { name: 'a', ok: true }, samples: await samplesOfRegistry(registryWith({ posts: 1 })) }]);
  assert.equal(none.budget, null, 'cap 0: no governor');
  assert.equal(none.consumerLag, null);
});

test('bucket widths: the smallest listed width that fits the span in the number of points', () => {
  assert.equal(chooseBucketSeconds(3600, 60), 60);
  assert.equal(chooseBucketSeconds(3601, 60), 120);
  assert.equal(chooseBucketSeconds(30, 60), 1);
  assert.equal(chooseBucketSeconds(8 * 3600, 60), 600);
  assert.equal(chooseBucketSeconds(400 * 86400, 10), 3456000);
});
