/**
 * Summarises V8 .cpuprofile files (node --cpu-prof; one per thread): self time per function,
 * so a missed goal comes with where the time went. Native code (onnxruntime's kernels) shows up
 * as the JS function that called into it, or as "(program)".
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from './child.js';

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly share: number;
  readonly thread: string;
}

export function profileFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.cpuprofile')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Top `limit` functions by self time in each profile (thread), largest first overall. */
export function hotFunctions(files: readonly string[], limit = 8): HotFunction[] {
  const all: HotFunction[] = [];
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const self = new Map<string, { fn: string; where: string; us: number }>();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      total += dt;
      const f = byId.get(id);
      if (!f) return;
      const where = f.url ? `${relative(REPO, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
      const key = `${f.functionName}\u0000${where}`;
      const entry = self.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
      entry.us += dt;
      self.set(key, entry);
    });
    const thread = relative(REPO, file);
    const top = [...self.values()].sort((a, b) => b.us - a.us).slice(0, limit);
    for (const t of top) all.push({ fn: t.fn, where: t.where, selfMs: +(t.us / 1000).toFixed(1), share: +(t.us / Math.max(1, total)).toFixed(3), thread });
  }
  return all.sort((a, b) => b.selfMs - a.selfMs);
}
