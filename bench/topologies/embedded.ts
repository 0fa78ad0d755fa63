/**
 * Topology (a): `crowdpulse run` as one child process (replay → analyze pool → SQLite), measured
 * from outside: per-post times from the store, CPU and peak RSS from the process's own resource
 * usage, correctness from the store's rows and the dead-letter file.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, usageFileIn, type Usage } from '../lib/child.js';
import type { Expected } from '../lib/expected.js';
import { readSqlite } from '../lib/sqlite-readout.js';
import { timingOf, type Timing } from '../lib/timing.js';
import { compareDeadLetters, compareRows, deadLettersInFile } from '../lib/verify.js';

export interface ProcessFigures {
  readonly role: string;
  readonly cpuSeconds: number;
  /** CPU time / wall time, in cores (2 = both cores busy the whole time). */
  readonly cpuCores: number;
  readonly peakRssMiB: number;
  readonly wallSeconds: number;
}

export interface TopologyRun {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly posts: number;
  readonly timing: Timing | undefined;
  readonly processes: readonly ProcessFigures[];
  /** Where the run's files are (kept when it failed). */
  readonly dir: string;
  /** How latency was measured, when not from per-post stage times. */
  readonly latencySource?: string;
}

export interface EmbeddedSpec {
  readonly fixture: string;
  readonly expected: Expected;
  readonly tier: string;
  readonly dir: string;
  /** Unpaced when undefined; else the replay source holds this rate. */
  readonly rate?: number;
  readonly threads?: number;
  readonly timeoutMs: number;
  /** Write a V8 CPU profile of the process here. */
  readonly cpuProfileDir?: string;
  readonly onProgress?: (stored: number) => void;
  readonly keepFiles?: boolean;
}

export function processFigures(role: string, usage: Usage | undefined, wallSeconds: number): ProcessFigures {
  const cpuSeconds = usage ? usage.userCpuSeconds + usage.systemCpuSeconds : Number.NaN;
  const wall = usage?.wallSeconds ?? wallSeconds;
  return { role, cpuSeconds, cpuCores: cpuSeconds / Math.max(1e-3, wall), peakRssMiB: usage?.peakRssMiB ?? Number.NaN, wallSeconds: wall };
}

const PROGRESS = /progress: (\d+)/;

export async function runEmbedded(spec: EmbeddedSpec): Promise<TopologyRun> {
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  const db = join(spec.dir, 'store.db');
  const deadLetters = join(spec.dir, 'dead-letters.ndjson');
  const args = [
    'bin/crowdpulse.js', 'run',
    '--input', spec.fixture, '--limit', String(spec.expected.lines),
    '--model', spec.tier, '--db', db, '--port', '0', '--progress', 'lines',
    ...(spec.rate === undefined ? ['--mode', 'max'] : ['--mode', 'rate', '--rate', String(spec.rate)]),
    ...(spec.threads === undefined ? [] : ['--threads', String(spec.threads)]),
  ];
  const child = startChild({
    name: `run/${spec.tier}`,
    args,
    env: { CROWDPULSE_DEAD_LETTER_PATH: deadLetters, CROWDPULSE_LOG_INTERVAL_SECONDS: '0.25', CROWDPULSE_LOG_LEVEL: 'warn' },
    usageFile: usageFileIn(spec.dir, 'run'),
    timeoutMs: spec.timeoutMs,
    ...(spec.cpuProfileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${spec.cpuProfileDir}`] } : {}),
    onStderrLine: (line) => {
      const m = PROGRESS.exec(line);
      if (m) spec.onProgress?.(Number(m[1]));
    },
  });
  const result = await child.done;
  const processes = [processFigures('run', result.usage, result.wallSeconds)];
  if (result.code !== 0) {
    return { ok: false, problems: [`crowdpulse run exited with ${result.code ?? result.signal}: ${result.stderrTail.trim().split('\n').slice(-8).join(' | ')}`], posts: 0, timing: undefined, processes, dir: spec.dir };
  }
  const readout = readSqlite(db);
  const verdict = compareRows(spec.expected, readout.rowsPerTopic, readout.distinctPosts);
  const problems = [...verdict.problems, ...compareDeadLetters(spec.expected, deadLettersInFile(deadLetters))];
  const timing = timingOf(spec.expected.ids, readout.times, spec.rate);
  if (problems.length === 0 && !spec.keepFiles) rmSync(spec.dir, { recursive: true, force: true });
  return { ok: problems.length === 0, problems, posts: readout.distinctPosts, timing, processes, dir: spec.dir };
}
