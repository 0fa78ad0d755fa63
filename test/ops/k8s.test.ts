import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys, loadConfig } from '../../src/config/load.js';
import { TOKEN_ENV_NAMES } from '../../src/x/credentials.js';
import { HTTP_TOKEN_ENV } from '../../src/telemetry/http-access.js';
import { ROOT } from '../helpers.js';
import { need } from './support.js';
import { haveKubectl, kustomize, schemaErrors, STRUCTURALLY_CHECKED, type K8sObject } from './manifests.js';

const K8S = join(ROOT, 'k8s');
const TARGETS = ['base', 'overlays/dev', 'overlays/prod'] as const;
const ROLES = new Set(['ingest', 'analyze', 'store', 'shifts', 'dashboard']);
/** Secrets an operator creates before applying prod (see k8s/overlays/prod/kustomization.yaml). */
const EXTERNAL_SECRETS: Record<string, readonly string[]> = {
  'crowdpulse-secrets': ['x-bearer-token', 'influxdb-token', 'http-token'],
  'crowdpulse-influxdb': ['admin-user', 'admin-password', 'user', 'user-password'],
};
const KNOWN_ENV = new Set([...configKeys().map((k) => k.env), ...TOKEN_ENV_NAMES, HTTP_TOKEN_ENV]);

const rendered = new Map<string, K8sObject[]>();
function render(t: Parameters<typeof need>[0], target: string): K8sObject[] | undefined {
  if (!need(t, haveKubectl(), 'kubectl (for kubectl kustomize)', 'install kubectl, or set KUBECTL to its path')) return undefined;
  let objects = rendered.get(target);
  if (!objects) {
    objects = kustomize(join(K8S, target));
    rendered.set(target, objects);
  }
  return objects;
}

/*
 * The fields the tests below read, by kind. One the tests read without `?.` is required here: a
 * manifest without it fails its test with a TypeError, as it would with any other typing.
 */
type Labels = Record<string, string>;
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  resources?: Record<string, { cpu?: string | number; memory?: string } | undefined>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  volumeMounts?: { name: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; value: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
type Workload = K8sObject & {
  spec: {
    replicas?: number;
    strategy: { type: string };
    selector: { matchLabels: Labels };
    template: { metadata: { labels?: Labels }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
};
interface Kinds {
  Deployment: Workload;
  StatefulSet: Workload;
  Service: K8sObject & { spec: { selector: Labels; ports: { name: string; port: number; targetPort: string | number }[] } };
  ConfigMap: K8sObject & { data: Labels };
  Secret: K8sObject & { data?: Labels };
  ServiceMonitor: K8sObject & {
    spec: { selector: { matchLabels: Labels }; endpoints: { port: string; authorization?: { type: string; credentials: { name: string; key: string } } }[] };
  };
  PodDisruptionBudget: K8sObject & { spec: { selector: { matchLabels: Labels }; minAvailable?: number } };
  HorizontalPodAutoscaler: K8sObject & { spec: { maxReplicas: number; scaleTargetRef: { name: string }; metrics: { resource?: { name: string } }[] } };
  ScaledObject: K8sObject & { spec: { maxReplicaCount: number; scaleTargetRef: { name: string }; triggers: { type: string; metadata: Labels }[] } };
  Kafka: K8sObject & { spec: { kafka: { listeners: { tls: boolean; port: number }[]; config: Record<string, number | boolean> }; zookeeper?: unknown } };
  KafkaNodePool: K8sObject & { spec: { roles: string[]; replicas: number; storage: { type: string } } };
  KafkaTopic: K8sObject & { spec: { topicName: string; replicas: number; partitions: number; config?: Record<string, string | number> } };
  NetworkPolicy: K8sObject & { spec: { podSelector: Selector; policyTypes: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[] } };
}
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface PolicyPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { port: number | string; protocol?: string }[];
}
/** A label selector as Kubernetes reads it (matchLabels and In / NotIn / Exists expressions). */
const selects = (selector: Selector, labels: Labels | undefined): boolean =>
  matches(selector.matchLabels ?? {}, labels) &&
  (selector.matchExpressions ?? []).every((e) => {
    const v = labels?.[e.key];
    if (e.operator === 'In') return v !== undefined && (e.values ?? []).includes(v);
    if (e.operator === 'NotIn') return v === undefined || !(e.values ?? []).includes(v);
    if (e.operator === 'Exists') return v !== undefined;
    return e.operator === 'DoesNotExist' && v === undefined;
  });

const byKind = <K extends keyof Kinds>(objects: K8sObject[], kind: K): Kinds[K][] => objects.filter((o) => o.kind === kind) as Kinds[K][];
const named = <K extends keyof Kinds>(objects: K8sObject[], kind: K, name: string): Kinds[K] | undefined =>
  byKind(objects, kind).find((o) => o.metadata.name === name || o.metadata.name.startsWith(`${name}-`));
const matches = (selector: Labels, labels: Labels | undefined): boolean => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const workloads = (objects: K8sObject[]): Workload[] => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as Workload[];
const crowdpulseDeployments = (objects: K8sObject[]): Workload[] =>
  byKind(objects, 'Deployment').filter((d) => d.metadata.labels?.['app.kubernetes.io/name'] === 'crowdpulse');
const component = (o: K8sObject): string => o.metadata.labels?.['app.kubernetes.io/component'] ?? '';

for (const target of TARGETS) {
  test(`k8s/${target}: renders with kubectl kustomize and every object passes schema validation`, async (t) => {
    const objects = render(t, target);
    if (!objects) return;
    assert.ok(objects.length > 15, `rendered ${objects.length} objects`);
    const problems: string[] = [];
    for (const o of objects) {
      if (STRUCTURALLY_CHECKED.has(o.apiVersion)) continue;
      const error = await schemaErrors(o);
      if (error) problems.push(`${o.kind}/${o.metadata.name}: ${error}`);
    }
    assert.deepEqual(problems, []);
    const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    assert.equal(new Set(keys).size, keys.length, 'no object rendered twice');
  });

  test(`k8s/${target}: one Deployment per role, hardened, probed, with requests and limits`, (t) => {
    const objects = render(t, target);
    if (!objects) return;
    const deployments = crowdpulseDeployments(objects);
    assert.deepEqual(deployments.map(component).sort(), [...ROLES].sort());
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      const where = `${w.kind}/${w.metadata.name}`;
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`);
      assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, `${where}: a non-root uid`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
      assert.ok(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${where}: selector matches its pods`);
      for (const c of pod.containers) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}/${c.name}: allowPrivilegeEscalation false`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}/${c.name}: read-only root filesystem`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}/${c.name}: drops all capabilities`);
        for (const kind of ['requests', 'limits']) {
          assert.ok(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, `${where}/${c.name}: ${kind} for cpu and memory`);
        }
        assert.ok(c.livenessProbe?.httpGet && c.readinessProbe?.httpGet, `${where}/${c.name}: liveness and readiness probes`);
        const mounted = new Set((c.volumeMounts ?? []).map((m: { name: string }) => m.name));
        for (const m of mounted)
          assert.ok(
            pod.volumes?.some((v: { name: string }) => v.name === m) || w.spec.volumeClaimTemplates?.some((v) => v.metadata.name === m),
            `${where}: volume ${m} defined`,
          );
      }
    }
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0]!;
      // The shift detector is the store role detecting only (alerts.shifts = only, a Kafka group of its own).
      const role = component(d) === 'shifts' ? 'store' : component(d);
      assert.equal(c.args?.[0], role, `${d.metadata.name} runs "crowdpulse ${role}"`);
      assert.ok(existsSync(join(ROOT, 'src/commands', `${role}.ts`)), `crowdpulse has a ${role} command`);
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      assert.ok(c.ports.some((p: { name: string; containerPort: number }) => p.name === c.livenessProbe.httpGet.port && p.containerPort === 9464));
      assert.match(c.image, /crowdpulse:\d+\.\d+\.\d+$/, 'a pinned image tag');
    }
    const ingest = deployments.find((d) => component(d) === 'ingest')!;
    assert.equal(ingest.spec.replicas, 1, 'ingest: one replica (X allows one stream connection)');
    assert.equal(ingest.spec.strategy.type, 'Recreate', 'ingest: never two stream connections during a rollout');
    // #13.5: one detector that sees every post (its own Kafka group); the store replicas detect nothing.
    const envOf = (d: (typeof deployments)[number]): Record<string, string> =>
      Object.fromEntries((d.spec.template.spec.containers[0]!.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value ?? '']));
    const shifts = deployments.find((d) => component(d) === 'shifts')!;
    assert.equal(shifts.spec.replicas, 1, 'shifts: one detector, or every shift is reported twice');
    assert.equal(shifts.spec.strategy.type, 'Recreate');
    assert.equal(envOf(shifts).CROWDPULSE_ALERTS_SHIFTS, 'only');
    assert.ok((envOf(shifts).CROWDPULSE_KAFKA_STORE_GROUP ?? '') !== '', 'shifts: a consumer group of its own');
    assert.equal(envOf(deployments.find((d) => component(d) === 'store')!).CROWDPULSE_ALERTS_SHIFTS, 'off');
    assert.equal(envOf(ingest).CROWDPULSE_X_COVERAGE_STORE, 'influxdb', 'ingest: coverage events to InfluxDB');
  });

  test(`k8s/${target}: configuration and secrets resolve, and every CROWDPULSE_* variable is a real setting that loads`, (t) => {
    const objects = render(t, target);
    if (!objects) return;
    const configMaps = byKind(objects, 'ConfigMap');
    const secrets = byKind(objects, 'Secret');
    for (const d of crowdpulseDeployments(objects)) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0]!;
      const env: Record<string, string> = {};
      for (const from of c.envFrom ?? []) {
        const cm = configMaps.find((m) => m.metadata.name === from.configMapRef?.name);
        assert.ok(cm, `${d.metadata.name}: ConfigMap ${from.configMapRef?.name} is rendered`);
        Object.assign(env, cm.data);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const secret = secrets.find((s) => s.metadata.name === ref.name);
          if (secret) assert.ok(secret.data?.[ref.key] !== undefined, `${d.metadata.name}: Secret ${ref.name} has key ${ref.key}`);
          else {
            assert.equal(target === 'overlays/dev', false, `dev generates its secrets: ${ref.name} missing`);
            assert.ok(EXTERNAL_SECRETS[ref.name]?.includes(ref.key), `${d.metadata.name}: ${ref.name}/${ref.key} is a documented external secret`);
          }
          env[e.name] = 'secret-value';
        } else env[e.name] = e.value;
      }
      for (const v of pod.volumes ?? []) {
        const ref = v.configMap;
        if (ref)
          assert.ok(
            configMaps.some((m) => m.metadata.name === ref.name),
            `${d.metadata.name}: ConfigMap volume ${ref.name} is rendered`,
          );
      }
      const unknown = Object.keys(env).filter((k) => k.startsWith('CROWDPULSE_') && !KNOWN_ENV.has(k));
      assert.deepEqual(unknown, [], `${d.metadata.name}: environment names crowdpulse does not read`);
      const loaded = loadConfig({ env });
      assert.ok(loaded.ok, `${d.metadata.name}: ${loaded.ok ? '' : loaded.error.message}`);
      assert.equal(loaded.value.http.port, 9464);
      assert.equal(loaded.value.http.host, '0.0.0.0', 'listens beyond loopback so probes and Prometheus reach it');
      assert.ok(
        env.CROWDPULSE_HTTP_TOKEN !== undefined || loaded.value.http.tokenFile !== '',
        `${d.metadata.name}: beyond loopback, an HTTP access token (#15.3)`,
      );
      if (component(d) === 'store' || component(d) === 'shifts' || component(d) === 'dashboard') {
        assert.equal(loaded.value.sink.kind, 'influxdb');
        const url = new URL(loaded.value.influxdb.url);
        const service = named(objects, 'Service', url.hostname);
        assert.ok(
          service?.spec.ports.some((p: { port: number }) => p.port === Number(url.port)),
          `InfluxDB URL ${url.href} is a rendered Service port`,
        );
      }
      // Kafka bootstrap = the Strimzi cluster's bootstrap Service and plain listener.
      const kafka: Kinds['Kafka'] = byKind(objects, 'Kafka')[0]!;
      const listener = kafka.spec.kafka.listeners.find((l: { tls: boolean }) => !l.tls)!;
      assert.equal(loaded.value.kafka.brokers, `${kafka.metadata.name}-kafka-bootstrap:${listener.port}`);
    }
  });

  test(`k8s/${target}: #15.3 NetworkPolicies: role pods take only their HTTP port and reach only DNS, Kafka, InfluxDB where they use it, and HTTPS out where they call out`, (t) => {
    const objects = render(t, target);
    if (!objects) return;
    const policies = byKind(objects, 'NetworkPolicy');
    const podLabels = workloads(objects).map((w) => ({ name: w.metadata.name, labels: w.spec.template.metadata.labels as Labels }));
    const policiesOf = (labels: Labels): Kinds['NetworkPolicy'][] => policies.filter((p) => selects(p.spec.podSelector, labels));
    /** The pod may send to a peer with these labels on this port (some egress rule allows it). */
    const egressTo = (labels: Labels, peer: Labels, port: number): boolean =>
      policiesOf(labels).some((p) =>
        (p.spec.egress ?? []).some(
          (r) => (r.ports ?? []).some((x) => x.port === port) && (r.to ?? []).some((to) => to.podSelector !== undefined && selects(to.podSelector, peer)),
        ),
      );
    const egressToInternet = (labels: Labels, port: number): boolean =>
      policiesOf(labels).some((p) =>
        (p.spec.egress ?? []).some((r) => (r.ports ?? []).some((x) => x.port === port) && (r.to ?? []).some((to) => to.ipBlock?.cidr === '0.0.0.0/0')),
      );
    const cm = byKind(objects, 'ConfigMap').find((m) => m.metadata.name === 'crowdpulse-config')!;
    const kafkaPort = Number(cm.data.CROWDPULSE_KAFKA_BROKERS!.split(':').at(-1));
    const kafkaPod = { 'strimzi.io/cluster': byKind(objects, 'Kafka')[0]!.metadata.name };
    const influx = podLabels.find((p) => p.labels['app.kubernetes.io/name'] === 'influxdb')!;
    for (const role of ROLES) {
      const pod = podLabels.find((p) => p.labels['app.kubernetes.io/name'] === 'crowdpulse' && p.labels['app.kubernetes.io/component'] === role);
      if (!pod) continue;
      const own = policiesOf(pod.labels);
      assert.ok(
        own.some((p) => p.spec.policyTypes.includes('Ingress')) && own.some((p) => p.spec.policyTypes.includes('Egress')),
        `${role}: isolated both ways`,
      );
      const ingressPorts = own.flatMap((p) => (p.spec.ingress ?? []).flatMap((r) => (r.ports ?? []).map((x) => x.port)));
      assert.deepEqual([...new Set(ingressPorts)], [9464], `${role}: takes only its HTTP port`);
      assert.ok(
        own.some((p) => (p.spec.egress ?? []).some((r) => (r.ports ?? []).some((x) => x.port === 53 && x.protocol === 'UDP'))),
        `${role}: DNS`,
      );
      assert.ok(egressTo(pod.labels, kafkaPod, kafkaPort), `${role}: reaches the Kafka brokers on ${kafkaPort}`);
      const usesInflux = ['store', 'shifts', 'dashboard'].includes(role);
      assert.equal(egressTo(pod.labels, influx.labels, 8086), usesInflux, `${role}: reaches InfluxDB only if it reads or writes it`);
      assert.equal(egressToInternet(pod.labels, 443), ['ingest', 'shifts'].includes(role), `${role}: HTTPS out only for the X API and alert webhooks`);
    }
    const influxIn = policiesOf(influx.labels).flatMap((p) => p.spec.ingress ?? []);
    assert.ok(influxIn.length > 0, 'InfluxDB is isolated');
    for (const role of ROLES) {
      const labels = { 'app.kubernetes.io/name': 'crowdpulse', 'app.kubernetes.io/component': role };
      const allowed = influxIn.some((r) =>
        (r.from ?? []).some((f) => f.podSelector !== undefined && f.namespaceSelector === undefined && selects(f.podSelector, labels)),
      );
      assert.equal(allowed, ['store', 'shifts', 'dashboard'].includes(role), `InfluxDB takes connections from ${role}: ${allowed}`);
    }
  });

  test(`k8s/${target}: Services, scraping, autoscaling and disruption budgets fit the workloads; Kafka (Strimzi, KRaft) fits the consumers`, (t) => {
    const objects = render(t, target);
    if (!objects) return;
    const pods = workloads(objects).map((w) => ({
      w,
      labels: w.spec.template.metadata.labels as Record<string, string>,
      containers: w.spec.template.spec.containers,
    }));
    for (const s of byKind(objects, 'Service')) {
      const backing = pods.filter((p) => matches(s.spec.selector, p.labels));
      assert.equal(backing.length, 1, `Service ${s.metadata.name} selects one workload`);
      for (const port of s.spec.ports)
        assert.ok(
          backing[0]!.containers.some((c) => c.ports?.some((p) => p.name === port.targetPort)),
          `Service ${s.metadata.name}: targetPort ${port.targetPort} is a container port`,
        );
      if (s.metadata.labels?.['app.kubernetes.io/name'] === 'crowdpulse') {
        assert.equal(s.metadata.annotations?.['prometheus.io/scrape'], 'true', `${s.metadata.name}: prometheus.io/scrape`);
        assert.equal(s.metadata.annotations?.['prometheus.io/path'], '/metrics');
      }
    }
    const monitor = byKind(objects, 'ServiceMonitor')[0];
    assert.ok(monitor, 'a ServiceMonitor');
    const monitored = byKind(objects, 'Service').filter((s) => matches(monitor.spec.selector.matchLabels, s.metadata.labels));
    assert.deepEqual(monitored.map((s) => component(s)).sort(), [...ROLES].sort(), 'the ServiceMonitor selects every role');
    for (const e of monitor.spec.endpoints) assert.ok(monitored.every((s) => s.spec.ports.some((p: { name: string }) => p.name === e.port)));
    for (const e of monitor.spec.endpoints)
      assert.deepEqual(
        e.authorization,
        { type: 'Bearer', credentials: { name: 'crowdpulse-secrets', key: 'http-token' } },
        'the ServiceMonitor scrapes with the access token',
      );

    for (const pdb of byKind(objects, 'PodDisruptionBudget')) {
      const target = pods.find((p) => matches(pdb.spec.selector.matchLabels, p.labels));
      assert.ok(target, `PDB ${pdb.metadata.name} selects a workload`);
      const replicas = target.w.spec.replicas ?? 1;
      if (pdb.spec.minAvailable !== undefined)
        assert.ok(
          pdb.spec.minAvailable < replicas,
          `PDB ${pdb.metadata.name}: minAvailable ${pdb.spec.minAvailable} < ${replicas} replicas, or a node drain blocks`,
        );
    }

    // Autoscaling of analyze: an HPA (CPU) or a KEDA ScaledObject on the analyze group's lag.
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'crowdpulse-analyze');
    const scaled = named(objects, 'ScaledObject', 'crowdpulse-analyze');
    assert.ok((hpa === undefined) !== (scaled === undefined), 'exactly one autoscaler for analyze');
    const maxAnalyze: number = hpa ? hpa.spec.maxReplicas : scaled!.spec.maxReplicaCount;
    if (hpa) {
      assert.equal(hpa.spec.scaleTargetRef.name, 'crowdpulse-analyze');
      assert.ok(hpa.spec.metrics.some((m: { resource?: { name: string } }) => m.resource?.name === 'cpu'));
    } else {
      assert.equal(scaled!.spec.scaleTargetRef.name, 'crowdpulse-analyze');
      const lag = scaled!.spec.triggers.find((x: { type: string }) => x.type === 'kafka')!;
      const cm = byKind(objects, 'ConfigMap').find((m) => m.metadata.name === 'crowdpulse-config')!;
      assert.equal(lag.metadata.consumerGroup, cm.data.CROWDPULSE_KAFKA_ANALYZE_GROUP);
      assert.equal(lag.metadata.topic, cm.data.CROWDPULSE_KAFKA_RAW_TOPIC);
      assert.equal(lag.metadata.bootstrapServers, cm.data.CROWDPULSE_KAFKA_BROKERS);
    }

    // Strimzi: checked structurally (no schema package for its CRDs on the registries).
    const [kafka, ...moreKafka] = byKind(objects, 'Kafka');
    assert.ok(kafka && moreKafka.length === 0, 'one Kafka cluster');
    assert.equal(kafka.apiVersion, 'kafka.strimzi.io/v1beta2');
    assert.equal(kafka.metadata.annotations?.['strimzi.io/node-pools'], 'enabled');
    assert.equal(kafka.metadata.annotations?.['strimzi.io/kraft'], 'enabled');
    assert.equal(kafka.spec.zookeeper, undefined, 'KRaft: no ZooKeeper');
    const pools = byKind(objects, 'KafkaNodePool').filter((p) => p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name);
    assert.ok(pools.length > 0, 'a node pool for the cluster');
    const roles = new Set(pools.flatMap((p) => p.spec.roles));
    assert.ok(roles.has('controller') && roles.has('broker'), 'KRaft: controllers and brokers in the node pools');
    const brokers = pools.filter((p) => p.spec.roles.includes('broker')).reduce((a, p) => a + p.spec.replicas, 0);
    for (const p of pools) assert.ok(['jbod', 'persistent-claim', 'ephemeral'].includes(p.spec.storage.type), `node pool ${p.metadata.name} storage`);
    const config = kafka.spec.kafka.config;
    for (const key of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'default.replication.factor']) {
      assert.ok(Number(config[key]) <= brokers, `${key} ${config[key]} ≤ ${brokers} brokers`);
    }
    const topics = byKind(objects, 'KafkaTopic');
    const cm = byKind(objects, 'ConfigMap').find((m) => m.metadata.name === 'crowdpulse-config')!;
    const topic = (name: string | undefined): Kinds['KafkaTopic'] => {
      const found = topics.find((x) => x.spec.topicName === name);
      assert.ok(found, `KafkaTopic ${name}`);
      return found;
    };
    for (const x of topics) {
      assert.equal(x.metadata.labels?.['strimzi.io/cluster'], kafka.metadata.name, `${x.metadata.name}: bound to the cluster`);
      assert.ok(x.spec.replicas <= brokers, `${x.metadata.name}: replicas ≤ brokers`);
      const isr = Number(x.spec.config?.['min.insync.replicas'] ?? 1);
      assert.ok(x.spec.replicas === 1 ? isr === 1 : isr < x.spec.replicas, `${x.metadata.name}: min.insync.replicas ${isr} leaves room for one broker down`);
    }
    const raw = topic(cm.data.CROWDPULSE_KAFKA_RAW_TOPIC);
    const scoredTopic = topic(cm.data.CROWDPULSE_KAFKA_SCORED_TOPIC);
    topic(cm.data.CROWDPULSE_KAFKA_DEAD_LETTER_TOPIC);
    assert.ok(raw.spec.partitions >= maxAnalyze, `raw topic partitions ${raw.spec.partitions} ≥ analyze's maximum ${maxAnalyze} replicas`);
    const store = crowdpulseDeployments(objects).find((d) => component(d) === 'store')!;
    assert.ok(scoredTopic.spec.partitions >= store.spec.replicas!, 'scored topic partitions ≥ store replicas');
    assert.equal(cm.data.CROWDPULSE_KAFKA_CREATE_TOPICS, 'false', 'topics belong to the topic operator');

    // InfluxDB as a StatefulSet with persistent storage.
    const influx = byKind(objects, 'StatefulSet').find((s) => s.metadata.name.includes('influxdb'));
    assert.ok(influx?.spec.volumeClaimTemplates?.length, 'InfluxDB keeps its data on a volume');
  });
}
