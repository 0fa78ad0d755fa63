/**
 * Summarises V8 .cpuprofile files (node --cpu-prof; one per thread) over the measured window only
 * (first post ingested → last post stored), so that process startup and model loading do not
 * drown the steady state. Profile timestamps are CLOCK_MONOTONIC µs, the clock of
 * process.hrtime, shared by every process on the machine; epoch times are mapped onto it.
 * Native code (onnxruntime's kernels, SQLite) shows as the JS function that called into it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { REPO } from './child.js';

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  /** Share of the thread's samples in the window. */
  readonly share: number;
}

export interface ThreadProfile {
  readonly thread: string;
  readonly file: string;
  /** Window length covered by samples, ms, and the share of it that was not idle. */
  readonly windowMs: number;
  readonly busyShare: number;
  readonly gcShare: number;
  readonly top: readonly HotFunction[];
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
  return out.sort();
}

/** Epoch ms → the monotonic µs of profile timestamps (valid on this machine, now). */
export function epochToMonotonicUs(epochMs: number): number {
  const offsetUs = Number(process.hrtime.bigint() / 1000n) - Date.now() * 1000;
  return epochMs * 1000 + offsetUs;
}

/** Not work: V8's idle marker, and a Piscina worker blocked waiting for its next task. */
const IDLE = new Set(['(idle)', 'atomicsWaitLoop']);

/** CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile: thread 0 is the main thread. */
function threadName(file: string, dirOf: string): string {
  const parts = basename(file).split('.');
  const tid = Number(parts[4]);
  const role = relative(dirOf, dirname(file));
  return `${role ? `${role} ` : ''}${tid === 0 ? 'main' : `worker ${tid}`}`;
}

export function summariseProfiles(dir: string, window?: { readonly startMs: number; readonly endMs: number }, limit = 6): ThreadProfile[] {
  const from = window ? epochToMonotonicUs(window.startMs) : -Infinity;
  const to = window ? epochToMonotonicUs(window.endMs) : Infinity;
  const out: ThreadProfile[] = [];
  for (const file of profileFiles(dir)) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const self = new Map<string, { fn: string; where: string; us: number }>();
    let t = profile.startTime;
    let total = 0;
    let idle = 0;
    let gc = 0;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      t += dt;
      if (t < from || t > to) return;
      total += dt;
      const f = byId.get(id);
      if (!f) return;
      if (IDLE.has(f.functionName)) {
        idle += dt;
        return;
      }
      if (f.functionName === '(garbage collector)') gc += dt;
      const where = f.url ? `${relative(REPO, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
      const key = `${f.functionName}\u0000${where}`;
      const entry = self.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
      entry.us += dt;
      self.set(key, entry);
    });
    if (total === 0 || idle / total > 0.995) continue;
    const top = [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, limit)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: +(e.us / 1000).toFixed(1), share: +(e.us / total).toFixed(3) }));
    out.push({
      thread: threadName(file, dir),
      file: relative(REPO, file),
      windowMs: +(total / 1000).toFixed(1),
      busyShare: +(1 - idle / total).toFixed(3),
      gcShare: +(gc / total).toFixed(3),
      top,
    });
  }
  return out;
}
