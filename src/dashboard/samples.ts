import type { Registry } from 'prom-client';

/** One metric sample: a name, its labels and a value, as in the Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Samples of a prom-client registry in this process (histogram series keep their _bucket/_sum/_count names). */
export async function samplesOfRegistry(registry: Registry): Promise<Sample[]> {
  const metrics = await registry.getMetricsAsJSON();
  const out: Sample[] = [];
  for (const metric of metrics) {
    for (const v of metric.values) {
      const labels: Record<string, string> = {};
      for (const [k, x] of Object.entries(v.labels)) labels[k] = String(x);
      const named = v as { metricName?: string };
      out.push({ name: named.metricName ?? metric.name, labels, value: v.value });
    }
  }
  return out;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4) into samples. Comment and blank
 * lines are skipped; a line that does not parse is returned in `errors` rather than thrown.
 */
export function parsePrometheusText(text: string): { samples: Sample[]; errors: string[] } {
  const samples: Sample[] = [];
  const errors: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) {
      errors.push(line);
      continue;
    }
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    let consumed = 0;
    let lm: RegExpExecArray | null;
    while ((lm = LABEL.exec(body)) !== null) {
      labels[lm[1] as string] = unescape(lm[2] as string);
      consumed = LABEL.lastIndex;
    }
    const value = parseValue(m[3] as string);
    if (consumed !== body.length || (Number.isNaN(value) && m[3] !== 'NaN')) {
      errors.push(line);
      continue;
    }
    samples.push({ name: m[1] as string, labels, value });
  }
  return { samples, errors };
}
