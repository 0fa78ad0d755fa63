import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers.js';
import { need } from './support.js';
import { haveKubectl, KUBECTL } from './manifests.js';

/*
 * scripts/kube-play/translate.ts on the rendered dev overlay: what scripts/kube-play.sh plays with
 * podman (CI runs that for real). These checks hold the translation to the manifests: every
 * Deployment replica and StatefulSet pod is played, every Service name resolves in every pod, no
 * pod publishes a host port, and what is not played is listed.
 */
type Obj = Record<string, unknown>;
interface Plan {
  pods: { name: string; ip: string; file: string; group: string; httpPort: number | null }[];
  secrets: { name: string; file: string }[];
  services: { name: string; ip: string; pod: string }[];
  topics: string[];
  volumes: string[];
  notCovered: { kind: string; name: string; why: string }[];
}

function translate(t: Parameters<typeof need>[0]): { plan: Plan; rendered: Obj[]; dir: string } | undefined {
  if (!need(t, haveKubectl(), 'kubectl (for kubectl kustomize)', 'install kubectl, or set KUBECTL to its path')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'kube-play-'));
  const r = spawnSync(KUBECTL, ['kustomize', join(ROOT, 'k8s/overlays/dev')], { encoding: 'utf8', maxBuffer: 32 << 20 });
  assert.equal(r.status, 0, r.stderr);
  writeFileSync(join(dir, 'rendered.yaml'), r.stdout);
  const tr = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/kube-play/translate.ts', join(dir, 'rendered.yaml'), dir, '10.89.99', 'localhost/kafka:test'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(tr.status, 0, tr.stderr);
  const rendered = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
  return { plan: JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan, rendered, dir };
}

function podOf(file: string): Obj {
  const pod = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Obj)
    .find((o) => o.kind === 'Pod');
  assert.ok(pod, `${file} holds a Pod`);
  return pod;
}

const spec = (o: Obj): Obj => o.spec as Obj;
const containers = (o: Obj): Obj[] => spec(o).containers as Obj[];
const meta = (o: Obj): { name: string } => o.metadata as { name: string };

test('kube play: the dev overlay translates to pods podman 4.3 can run, with every Service name resolvable', (t) => {
  const out = translate(t);
  if (!out) return;
  const { plan, rendered, dir } = out;
  try {
    const ofKind = (kind: string): Obj[] => rendered.filter((o) => o.kind === kind);

    // Every replica of every Deployment and StatefulSet is a pod, named as Kubernetes names them.
    const expected = [
      ...ofKind('Deployment').flatMap((d) => Array.from({ length: Number(spec(d).replicas ?? 1) }, (_, i) => `${meta(d).name}-${i}`)),
      ...ofKind('StatefulSet').flatMap((s) => Array.from({ length: Number(spec(s).replicas ?? 1) }, (_, i) => `${meta(s).name}-${i}`)),
      'crowdpulse-dual-role-0',
    ].sort();
    assert.deepEqual(plan.pods.map((p) => p.name).sort(), expected);
    assert.equal(new Set(plan.pods.map((p) => p.ip)).size, plan.pods.length, 'one address per pod');

    // Every Service (and Strimzi's bootstrap) resolves, in every pod, to a pod its selector matches.
    const serviceNames = [...ofKind('Service').map((s) => meta(s).name), 'crowdpulse-kafka-bootstrap'].sort();
    assert.deepEqual(plan.services.map((s) => s.name).sort(), serviceNames);
    for (const p of plan.pods) {
      const pod = podOf(p.file);
      const aliases = (spec(pod).hostAliases as { ip: string; hostnames: string[] }[]).flatMap((a) => a.hostnames.map((h) => `${h}=${a.ip}`));
      for (const s of plan.services) assert.ok(aliases.includes(`${s.name}=${s.ip}`), `${p.name} resolves ${s.name}`);
      for (const c of containers(pod)) {
        // podman 4.3 publishes every containerPort on the host: two pods on 9464 would collide.
        assert.equal(c.ports, undefined, `${p.name}/${String(c.name)} publishes no port`);
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          const port = ((c[probe] as Obj | undefined)?.httpGet as Obj | undefined)?.port;
          if (port !== undefined) assert.equal(typeof port, 'number', `${p.name} ${probe} port is a number`);
        }
      }
    }

    // The pod's user reaches its containers (podman ignores the pod-level securityContext).
    const influx = podOf(plan.pods.find((p) => p.name === 'crowdpulse-influxdb-0')?.file ?? '');
    assert.equal((containers(influx)[0]?.securityContext as Obj).runAsUser, 1500);
    // Named volumes: the claims, and one per StatefulSet pod and volumeClaimTemplate.
    const claims = [
      ...ofKind('PersistentVolumeClaim').map((c) => meta(c).name),
      ...ofKind('StatefulSet').flatMap((s) => (spec(s).volumeClaimTemplates as Obj[]).map((v) => `${meta(v).name}-${meta(s).name}-0`)),
    ];
    assert.deepEqual(plan.volumes.sort(), claims.sort());

    // Kafka: one KRaft pod advertising the bootstrap name, the topics the KafkaTopics declare.
    const kafka = podOf(plan.pods.find((p) => p.name === 'crowdpulse-dual-role-0')?.file ?? '');
    const env = Object.fromEntries((containers(kafka)[0]?.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.KAFKA_ADVERTISED_LISTENERS, 'PLAINTEXT://crowdpulse-kafka-bootstrap:9092');
    assert.equal(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
    assert.deepEqual(
      plan.topics.sort(),
      ofKind('KafkaTopic')
        .map((k) => String(spec(k).topicName))
        .sort(),
    );

    // Secrets in the form podman 4.3's secretKeyRef reads: the data map.
    for (const s of plan.secrets) {
      const source = ofKind('Secret').find((o) => meta(o).name === s.name);
      assert.deepEqual(JSON.parse(readFileSync(s.file, 'utf8')), source?.data);
    }

    // What is not played is said, and nothing is dropped silently.
    const played = new Set(['ConfigMap', 'Secret', 'Deployment', 'StatefulSet', 'PersistentVolumeClaim', 'Kafka', 'KafkaNodePool', 'KafkaTopic', 'Service']);
    const unplayed = rendered.filter((o) => !played.has(String(o.kind))).map((o) => `${String(o.kind)}/${meta(o).name}`);
    assert.deepEqual(plan.notCovered.map((n) => `${n.kind}/${n.name}`).sort(), unplayed.sort());
    assert.ok(plan.notCovered.some((n) => n.kind === 'HorizontalPodAutoscaler'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
