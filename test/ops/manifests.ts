import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object: the fields every object has; the tests type the rest by kind. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
};

export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

export function haveKubectl(): boolean {
  return spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

/** `kubectl kustomize DIR`, parsed; throws with kustomize's message when it does not render. */
export function kustomize(dir: string): K8sObject[] {
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 32 << 20 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML of ${dir} does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject;
    })
    .filter((o) => o !== null);
}

/** Model classes that validate an object against its published schema, by apiVersion. */
const MODEL_MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
};

/** API groups without a schema package on the registries (checked structurally by the tests instead). */
export const STRUCTURALLY_CHECKED = new Set(['kafka.strimzi.io/v1beta2']);

/**
 * Validates one object with kubernetes-models (JSON schema from the Kubernetes / CRD OpenAPI):
 * undefined when valid, else the validator's message.
 */
export async function schemaErrors(object: K8sObject): Promise<string | undefined> {
  const path = MODEL_MODULES[object.apiVersion];
  if (!path) return `no schema known for ${object.apiVersion} ${object.kind}`;
  const module = (await import(path)) as Record<string, unknown>;
  const Model = module[object.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return `${path} has no model for kind ${object.kind}`;
  try {
    new Model(object).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
