/**
 * The rendered dev overlay (`kubectl kustomize k8s/overlays/dev`), turned into what `podman kube play`
 * 4.3 can run (scripts/kube-play.sh). podman plays Pods, Deployments, ConfigMaps and
 * PersistentVolumeClaims only; this file does what a cluster would do with the rest, and says what it
 * leaves out:
 *
 * - Deployments → `replicas` Pods named `<deployment>-<i>`; a StatefulSet → Pods `<sts>-<i>` with one
 *   PersistentVolumeClaim per volumeClaimTemplate, named `<template>-<sts>-<i>` as Kubernetes names them.
 * - Pod-level securityContext (runAsUser, runAsGroup; podman ignores them there) is copied to each
 *   container that sets none, as the kubelet applies it; fsGroup becomes the claim volume's gid.
 * - Services → hostAliases in every pod: each Service name resolves to the first pod its selector
 *   matches (no load balancing; one address per name).
 * - Strimzi's Kafka + KafkaNodePool → one KRaft broker+controller Pod `<cluster>-<pool>-0` on the stack's
 *   Kafka image, its config from the Kafka resource, its resources and (ephemeral) storage from the node
 *   pool; the bootstrap Service `<cluster>-kafka-bootstrap` resolves to it. KafkaTopics → topics.json,
 *   which kube-play.sh creates (what the topic operator does).
 * - Secrets → secrets/<name>.json in the form podman 4.3's secretKeyRef reads (the data map).
 *
 * Not covered, listed in plan.json's `notCovered`: Namespace (podman has none), ServiceAccount,
 * NetworkPolicy, PodDisruptionBudget, HorizontalPodAutoscaler, ServiceMonitor, PrometheusRule, and
 * readiness/startup probes (podman 4.3 runs liveness probes only; kube-play.sh checks /readyz itself).
 *
 *   node --import tsx scripts/kube-play/translate.ts RENDERED.yaml OUT_DIR SUBNET_PREFIX KAFKA_IMAGE
 *   e.g. … /tmp/dev.yaml /tmp/kube-play 10.89.77 localhost/crowdpulse-stack-kafka:4.1.0
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

type Obj = Record<string, unknown>;
interface K8sObject extends Obj {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> } & Obj;
  readonly spec?: Obj;
  readonly data?: Record<string, string>;
}

interface PlannedPod {
  readonly name: string;
  readonly ip: string;
  readonly file: string;
  /** infra pods start first (and must be ready) before the app pods. */
  readonly group: 'infra' | 'app';
  readonly labels: Record<string, string>;
  /** The crowdpulse HTTP port (9464) when the pod serves /healthz, /readyz and /metrics. */
  readonly httpPort: number | null;
}

const FIRST_HOST = 10;
const NOT_COVERED: Record<string, string> = {
  Namespace: 'podman has no namespaces: every pod and volume is global to the host',
  ServiceAccount: 'no API server to authenticate to',
  NetworkPolicy: 'podman does not enforce NetworkPolicy: every pod on the network reaches every other',
  PodDisruptionBudget: 'no evictions on one host',
  HorizontalPodAutoscaler: 'no metrics server or controller: each Deployment runs its fixed replicas',
  ServiceMonitor: 'no Prometheus operator',
  PrometheusRule: 'no Prometheus operator (the rules are checked by promtool in the test suite)',
};

function fail(message: string): never {
  process.stderr.write(`translate.ts: ${message}\n`);
  process.exit(1);
}

function obj(value: unknown): Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {};
}

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? value.map(obj) : [];
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** A probe whose httpGet port is a container port's name, with the number instead. */
function probeWithPortNumber(probe: unknown, ports: Obj[]): unknown {
  const httpGet = obj(obj(probe).httpGet);
  if (typeof httpGet.port !== 'string') return probe;
  const named = ports.find((p) => p.name === httpGet.port) ?? fail(`probe port ${httpGet.port} names no container port`);
  return { ...obj(probe), httpGet: { ...httpGet, port: named.containerPort } };
}

/**
 * What a pod's containers need to run under podman as under a kubelet:
 * - the pod-level user and group onto every container that sets none (podman ignores the pod's
 *   securityContext);
 * - no `ports`: podman 4.3 publishes every containerPort on the host's same port (so two pods with
 *   9464 collide), where in a cluster containerPort is informational and the pod's address serves
 *   it; the pods' addresses on the play's network are reachable here too. Probes that name a port
 *   get its number.
 */
function forPodman(podSpec: Obj): Obj {
  const podContext = obj(podSpec.securityContext);
  const containers = list(podSpec.containers).map((c) => {
    const context = { ...obj(c.securityContext) };
    if (context.runAsUser === undefined && podContext.runAsUser !== undefined) context.runAsUser = podContext.runAsUser;
    if (context.runAsGroup === undefined && podContext.runAsGroup !== undefined) context.runAsGroup = podContext.runAsGroup;
    const ports = list(c.ports);
    const { ports: _ports, ...rest } = c;
    const probes = Object.fromEntries(
      (['livenessProbe', 'readinessProbe', 'startupProbe'] as const).filter((k) => c[k] !== undefined).map((k) => [k, probeWithPortNumber(c[k], ports)]),
    );
    return { ...rest, ...probes, securityContext: context };
  });
  return { ...podSpec, containers };
}

/** From the pod template as written (forPodman removes the ports). */
function httpPortOf(podSpec: Obj): number | null {
  for (const c of list(podSpec.containers)) {
    for (const p of list(c.ports)) if (p.name === 'http' && typeof p.containerPort === 'number' && p.containerPort === 9464) return 9464;
  }
  return null;
}

/** One KRaft node that is broker and controller, configured like the stack's Kafka (docker-compose.yml) plus the Kafka resource's config. */
function kafkaPod(kafka: K8sObject, pool: K8sObject | undefined, image: string): { name: string; spec: Obj; labels: Record<string, string> } {
  const cluster = kafka.metadata.name;
  const poolName = pool?.metadata.name ?? 'kafka';
  const name = `${cluster}-${poolName}-0`;
  const config = obj(obj(obj(kafka.spec).kafka).config);
  const listeners = list(obj(obj(kafka.spec).kafka).listeners);
  const plain = listeners.find((l) => l.tls === false) ?? fail(`Kafka ${cluster} has no plain (tls: false) listener`);
  const port = typeof plain.port === 'number' ? plain.port : 9092;
  const env: Obj[] = [
    ['KAFKA_NODE_ID', '0'],
    ['KAFKA_PROCESS_ROLES', 'broker,controller'],
    ['KAFKA_LISTENERS', `PLAINTEXT://:${port},CONTROLLER://:9093`],
    ['KAFKA_ADVERTISED_LISTENERS', `PLAINTEXT://${cluster}-kafka-bootstrap:${port}`],
    ['KAFKA_CONTROLLER_LISTENER_NAMES', 'CONTROLLER'],
    ['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'],
    ['KAFKA_CONTROLLER_QUORUM_VOTERS', '0@127.0.0.1:9093'],
    ['KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS', '0'],
    ['KAFKA_LOG_DIRS', '/var/lib/kafka/data'],
    ...Object.entries(config).map(([key, value]) => {
      if (key.includes('_')) fail(`Kafka config key ${key}: the image's KAFKA_<NAME> mapping cannot carry '_'`);
      return [`KAFKA_${key.toUpperCase().replaceAll('.', '_')}`, String(value)];
    }),
  ].map(([n, v]) => ({ name: n, value: v }));
  const poolSpec = obj(pool?.spec);
  const volumes = list(obj(poolSpec.storage).volumes);
  if (volumes.some((v) => v.type !== 'ephemeral')) fail(`KafkaNodePool ${poolName}: only ephemeral storage is played (the dev overlay's)`);
  const replicas = typeof poolSpec.replicas === 'number' ? poolSpec.replicas : 1;
  if (replicas !== 1) fail(`KafkaNodePool ${poolName} has ${replicas} replicas: the play runs one node`);
  const labels = { 'strimzi.io/cluster': cluster, 'strimzi.io/pool-name': poolName, 'strimzi.io/kind': 'Kafka' };
  const spec: Obj = {
    containers: [
      {
        name: 'kafka',
        image,
        env,
        ...(poolSpec.resources !== undefined ? { resources: poolSpec.resources } : {}),
        volumeMounts: [{ name: 'data-0', mountPath: '/var/lib/kafka/data' }],
      },
    ],
    volumes: [{ name: 'data-0', emptyDir: {} }],
  };
  return { name, spec, labels };
}

function main(): void {
  const [renderedPath, outDir, subnet, kafkaImage] = process.argv.slice(2);
  if (renderedPath === undefined || outDir === undefined || subnet === undefined || kafkaImage === undefined) {
    fail('usage: translate.ts RENDERED.yaml OUT_DIR SUBNET_PREFIX KAFKA_IMAGE');
  }
  const objects: K8sObject[] = parseAllDocuments(readFileSync(renderedPath, 'utf8')).map((d) => {
    if (d.errors.length > 0) fail(`${renderedPath}: ${d.errors[0]?.message ?? 'YAML error'}`);
    return d.toJS() as K8sObject;
  });
  const byKind = (kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
  mkdirSync(join(outDir, 'pods'), { recursive: true });
  mkdirSync(join(outDir, 'secrets'), { recursive: true });

  const configMaps = byKind('ConfigMap').map((c) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: c.metadata.name }, data: c.data ?? {} }));
  const secrets = byKind('Secret').map((s) => {
    const file = join(outDir, 'secrets', `${s.metadata.name}.json`);
    writeFileSync(file, JSON.stringify(s.data ?? {}), { mode: 0o600 });
    return { name: s.metadata.name, file };
  });

  // Pods (before addresses are known): name, spec, labels, claims, group.
  interface Draft {
    name: string;
    spec: Obj;
    labels: Record<string, string>;
    claims: Obj[];
    group: 'infra' | 'app';
    httpPort: number | null;
  }
  const drafts: Draft[] = [];
  for (const sts of byKind('StatefulSet')) {
    const template = obj(obj(sts.spec).template);
    const replicas = typeof obj(sts.spec).replicas === 'number' ? (obj(sts.spec).replicas as number) : 1;
    const podSpec = forPodman(obj(template.spec));
    const podContext = obj(obj(template.spec).securityContext);
    for (let i = 0; i < replicas; i++) {
      const name = `${sts.metadata.name}-${i}`;
      const claims = list(obj(sts.spec).volumeClaimTemplates).map((t) => {
        const template = String(obj(t.metadata).name);
        const annotations: Record<string, string> = {};
        if (typeof podContext.runAsUser === 'number') annotations['volume.podman.io/uid'] = String(podContext.runAsUser);
        if (typeof podContext.fsGroup === 'number') annotations['volume.podman.io/gid'] = String(podContext.fsGroup);
        return { template, claim: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `${template}-${name}`, annotations }, spec: t.spec } };
      });
      const volumes = [...list(podSpec.volumes), ...claims.map((c) => ({ name: c.template, persistentVolumeClaim: { claimName: c.claim.metadata.name } }))];
      drafts.push({
        name,
        spec: { ...podSpec, volumes },
        labels: obj(template.metadata).labels as Record<string, string>,
        claims: claims.map((c) => c.claim),
        group: 'infra',
        httpPort: httpPortOf(obj(template.spec)),
      });
    }
  }
  for (const kafka of byKind('Kafka')) {
    const pool = byKind('KafkaNodePool').find((p) => p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name);
    drafts.push({ ...kafkaPod(kafka, pool, kafkaImage), claims: [], group: 'infra', httpPort: null });
  }
  const standaloneClaims = byKind('PersistentVolumeClaim').map((c) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: c.metadata.name },
    spec: c.spec,
  }));
  for (const deployment of byKind('Deployment')) {
    const template = obj(obj(deployment.spec).template);
    const replicas = typeof obj(deployment.spec).replicas === 'number' ? (obj(deployment.spec).replicas as number) : 1;
    const podSpec = forPodman(obj(template.spec));
    const claimNames = new Set(
      list(podSpec.volumes)
        .map((v) => obj(v.persistentVolumeClaim).claimName)
        .filter((n) => typeof n === 'string'),
    );
    for (let i = 0; i < replicas; i++) {
      drafts.push({
        name: `${deployment.metadata.name}-${i}`,
        spec: podSpec,
        labels: obj(template.metadata).labels as Record<string, string>,
        claims: standaloneClaims.filter((c) => claimNames.has(c.metadata.name)),
        group: 'app',
        httpPort: httpPortOf(obj(template.spec)),
      });
    }
  }
  if (drafts.length > 240) fail(`${drafts.length} pods do not fit one /24`);
  const ipOf = new Map(drafts.map((d, i) => [d.name, `${subnet}.${FIRST_HOST + i}`]));

  // Services → host aliases.
  const services: { name: string; ip: string; pod: string }[] = [];
  const unmatched: string[] = [];
  for (const service of byKind('Service')) {
    const selector = obj(obj(service.spec).selector) as Record<string, string>;
    const pod = drafts.find((d) => labelsMatch(selector, d.labels));
    if (pod === undefined) unmatched.push(service.metadata.name);
    else services.push({ name: service.metadata.name, ip: ipOf.get(pod.name) ?? '', pod: pod.name });
  }
  for (const kafka of byKind('Kafka')) {
    const pod = drafts.find((d) => d.labels['strimzi.io/cluster'] === kafka.metadata.name);
    if (pod !== undefined) services.push({ name: `${kafka.metadata.name}-kafka-bootstrap`, ip: ipOf.get(pod.name) ?? '', pod: pod.name });
  }
  const aliasesByIp = new Map<string, string[]>();
  for (const s of services) aliasesByIp.set(s.ip, [...(aliasesByIp.get(s.ip) ?? []), s.name]);
  const hostAliases = [...aliasesByIp].map(([ip, hostnames]) => ({ ip, hostnames }));

  const pods: PlannedPod[] = drafts.map((d) => {
    const file = join(outDir, 'pods', `${d.name}.yaml`);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: d.name, labels: d.labels },
      spec: { ...d.spec, hostname: d.name, hostAliases: [...list(d.spec.hostAliases), ...hostAliases] },
    };
    writeFileSync(file, [...d.claims, ...configMaps, pod].map((o) => stringify(o)).join('---\n'));
    return { name: d.name, ip: ipOf.get(d.name) ?? '', file, group: d.group, labels: d.labels, httpPort: d.httpPort };
  });

  const topics = byKind('KafkaTopic').map((t) => {
    const spec = obj(t.spec);
    return {
      name: typeof spec.topicName === 'string' ? spec.topicName : t.metadata.name,
      partitions: spec.partitions,
      replicas: spec.replicas,
      config: Object.fromEntries(Object.entries(obj(spec.config)).map(([k, v]) => [k, String(v)])),
    };
  });
  writeFileSync(join(outDir, 'topics.json'), JSON.stringify(topics, null, 2));

  const played = new Set(['ConfigMap', 'Secret', 'Deployment', 'StatefulSet', 'PersistentVolumeClaim', 'Kafka', 'KafkaNodePool', 'KafkaTopic', 'Service']);
  const notCovered = objects
    .filter((o) => !played.has(o.kind))
    .map((o) => ({ kind: o.kind, name: o.metadata.name, why: NOT_COVERED[o.kind] ?? 'no podman equivalent' }));
  for (const name of unmatched) notCovered.push({ kind: 'Service', name, why: 'its selector matches no played pod' });

  writeFileSync(
    join(outDir, 'plan.json'),
    JSON.stringify(
      {
        pods,
        secrets,
        services,
        topics: topics.map((t) => t.name),
        volumes: [...new Set(drafts.flatMap((d) => d.claims.map((c) => String(obj(c.metadata).name))))],
        notCovered,
      },
      null,
      2,
    ),
  );
  // pods.tsv for the shell: name ip file group httpPort component terminationGracePeriodSeconds
  writeFileSync(
    join(outDir, 'pods.tsv'),
    pods
      .map((p, i) => {
        const grace = drafts[i]?.spec.terminationGracePeriodSeconds;
        return [p.name, p.ip, p.file, p.group, p.httpPort ?? '-', p.labels['app.kubernetes.io/component'] ?? '-', typeof grace === 'number' ? grace : 30].join(
          '\t',
        );
      })
      .join('\n') + '\n',
  );
  process.stdout.write(
    `${pods.length} pods, ${secrets.length} secrets, ${services.length} service names, ${topics.length} topics; not covered: ${notCovered.map((n) => `${n.kind}/${n.name}`).join(', ')}\n`,
  );
}

main();
