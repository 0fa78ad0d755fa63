import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { encodePosts } from '../../src/sinks/influxdb/line-protocol.js';
import { registry } from '../../src/telemetry/metrics.js';
import { SENTIMENT_WORKER_METRICS } from '../../src/transforms/sentiment/worker-metrics.js';
// The modules that define crowdpulse's metrics, imported for their registrations.
import '../../src/kafka/metrics.js';
import '../../src/x/metrics.js';
import '../../src/sinks/influxdb/metrics.js';
import { ROOT } from '../helpers.js';

/** The fields of the dashboard JSON the tests read (a row panel has only an id and its type). */
interface Datasource {
  uid: string;
  type: string;
}
interface Target {
  datasource: Datasource;
  expr?: string;
  query?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: unknown;
  datasource: Datasource;
  targets: Target[];
}
type RowPanel = Pick<Panel, 'id' | 'type'>;
const DIR = join(ROOT, 'deploy/grafana');
const dashboard = JSON.parse(readFileSync(join(DIR, 'dashboards/crowdpulse.json'), 'utf8')) as {
  uid: string;
  panels: (Panel | RowPanel)[];
  templating: { list: { query?: string }[] };
};
const provisioned = parse(readFileSync(join(DIR, 'provisioning/datasources/crowdpulse.yml'), 'utf8')) as {
  datasources: { uid: string; type: string; jsonData?: { dbName?: string } }[];
};
const panels = dashboard.panels.filter((p): p is Panel => p.type !== 'row');
const targets: (Target & { panel: string })[] = panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, ...t })));

test('grafana: every panel and query uses a provisioned datasource of the right type', () => {
  const uids = new Map(provisioned.datasources.map((d) => [d.uid, d.type]));
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
  for (const p of panels) {
    assert.ok(p.title && p.gridPos, `${p.id}: title and position`);
    assert.equal(uids.get(p.datasource.uid), p.datasource.type, `${p.title}: datasource ${p.datasource.uid}`);
    for (const t of p.targets) assert.equal(uids.get(t.datasource.uid), t.datasource.type, `${p.title}: query datasource`);
  }
  assert.ok(targets.some((t) => t.datasource.type === 'prometheus') && targets.some((t) => t.datasource.type === 'influxdb'));
});

test('grafana: every PromQL query reads metrics that crowdpulse really exports', async () => {
  const exported = new Set([...(await registry.getMetricsAsJSON()).map((m) => m.name), ...SENTIMENT_WORKER_METRICS.map((m) => m.name)]);
  const types = new Map([
    ...(await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)] as const),
    ...SENTIMENT_WORKER_METRICS.map((m) => [m.name, m.type] as const),
  ]);
  let checked = 0;
  for (const t of targets.filter((x) => x.datasource.type === 'prometheus')) {
    for (const [name] of (t.expr as string).matchAll(/crowdpulse_[a-z0-9_]+/g)) {
      const histogram = /_(bucket|sum|count)$/.exec(name);
      const base = histogram && types.get(name.slice(0, histogram.index)) === 'histogram' ? name.slice(0, histogram.index) : name;
      assert.ok(exported.has(base), `${t.panel}: ${name} is not a crowdpulse metric`);
      if (name.endsWith('_bucket')) assert.equal(types.get(base), 'histogram', `${t.panel}: ${name} needs a histogram`);
      checked += 1;
    }
    for (const [, name] of (t.expr as string).matchAll(/(?:rate|increase)\((crowdpulse_[a-z0-9_]+)/g)) {
      const base = name!.replace(/_(bucket|sum|count)$/, '');
      assert.ok(
        ['counter', 'histogram'].includes(types.get(name!) ?? types.get(base) ?? ''),
        `${t.panel}: rate()/increase() over ${name}, which is not a counter`,
      );
    }
  }
  assert.ok(checked >= 15, `checked ${checked} metric references`);
});

test('grafana: the InfluxQL queries read the measurement, tags and fields the InfluxDB sink writes', () => {
  const config = loadConfig({ env: {} });
  assert.ok(config.ok);
  const influx = provisioned.datasources.find((d) => d.type === 'influxdb')!;
  assert.equal(influx.jsonData?.dbName, config.value.influxdb.bucket.split('/')[0], 'the database of the default bucket "db/rp"');
  const { text } = encodePosts(
    [
      {
        id: '2117496997278646272',
        createdAt: '2026-11-03T06:00:00.000Z',
        topics: ['crypto'],
        lang: 'en',
        label: 'positive',
        probs: { neg: 0.1, neu: 0.2, pos: 0.7 },
        score: 0.6,
        model: 'm',
        flags: [],
        ingestedAt: 1,
        analyzedAt: 2,
      },
    ],
    config.value.influxdb.measurement,
  );
  const [series = '', fieldText = ''] = text.split(' ');
  const [measurement, ...tagPairs] = series.split(',');
  const tags = new Set(tagPairs.map((p) => p.split('=')[0]));
  const fields = new Set(fieldText.split(',').map((p) => p.split('=')[0]));
  const queries = [
    ...targets.filter((t) => t.datasource.type === 'influxdb').map((t) => t.query as string),
    ...dashboard.templating.list.map((v) => v.query as string),
  ];
  assert.ok(queries.length >= 4);
  for (const q of queries) {
    for (const [, m] of q.matchAll(/FROM "([^"]+)"/g)) assert.equal(m, measurement, q);
    for (const [, f] of q.matchAll(/(?:mean|count|sum)\("([^"]+)"\)/g)) assert.ok(fields.has(f), `field ${f} in ${q}`);
    for (const [, tag] of q.matchAll(/(?:GROUP BY .*?|KEY = |AND )"([a-z_]+)"(?! *\()/g)) assert.ok(tags.has(tag), `tag ${tag} in ${q}`);
  }
});
