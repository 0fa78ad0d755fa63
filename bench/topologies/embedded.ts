/**
 * Topology (a): `crowdpulse run` as one child process (source → analyze pool → SQLite), measured
 * from outside: per-post times from the store, CPU and peak RSS from the process's own resource
 * usage, correctness from the store's rows and the dead-letter file.
 * Sources: the replay source (the run ends by itself at the end of the file), or the X API
 * emulator followed by crowdpulse's real X client (the run is stopped with SIGTERM once the store
 * holds every post, and must drain and exit cleanly).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChild, usageFileIn, type ChildResult, type RunningChild, type Usage } from '../lib/child.js';
import { BENCH_TOKEN, RULES_FILE, type EmulatedExpected } from '../lib/emulated.js';
import type { Expected } from '../lib/expected.js';
import { freePort } from '../lib/ports.js';
import { scrape, sumOf } from '../lib/prom.js';
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

export type SourceKind = 'replay' | 'x-emulator';

export interface EmbeddedSpec {
  readonly fixture: string;
  readonly expected: Expected;
  readonly source?: SourceKind;
  readonly tier: string;
  readonly dir: string;
  /** Unpaced when undefined; else the source holds this rate. */
  readonly rate?: number;
  readonly threads?: number;
  /** model.maxBatch (0 or absent = the tier default). */
  readonly maxBatch?: number;
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

/** crowdpulse's X client pointed at the emulator: rules synced at start, no post budget governor. */
export function xClientEnv(url: string, dir: string): Record<string, string> {
  return {
    CROWDPULSE_X_API_URL: url,
    CROWDPULSE_X_BEARER_TOKEN: BENCH_TOKEN,
    CROWDPULSE_X_RULES_FILE: RULES_FILE,
    CROWDPULSE_X_SYNC_RULES_ON_START: 'true',
    CROWDPULSE_X_MONTHLY_CAP: '0',
    CROWDPULSE_X_USAGE_CHECK_MINUTES: '0',
    CROWDPULSE_X_STATE_PATH: join(dir, 'x-governor.json'),
  };
}
const tail = (r: ChildResult): string => r.stderrTail.trim().split('\n').slice(-8).join(' | ');

/** Starts the emulator on a free port and waits for the line that says it listens. */
export async function startEmulator(
  spec: { readonly fixture: string; readonly dir: string; readonly rate?: number; readonly timeoutMs: number },
  limit: number,
): Promise<{ child: RunningChild; url: string } | { error: string }> {
  const port = await freePort();
  let listening: (() => void) | undefined;
  const up = new Promise<void>((resolve) => {
    listening = resolve;
  });
  const child = startChild({
    name: 'emulate',
    args: [
      'bin/crowdpulse.js',
      'emulate',
      '--posts',
      spec.fixture,
      '--port',
      String(port),
      '--rate',
      String(spec.rate ?? 1_000_000),
      '--no-loop',
      // The bench measures how fast crowdpulse reads: no slow-consumer disconnect however far behind it falls.
      '--max-backlog',
      '0',
      '--cap',
      '1000000000',
      '--limit',
      String(limit),
      '--keepalive-ms',
      '1000',
    ],
    env: { CROWDPULSE_X_BEARER_TOKEN: BENCH_TOKEN },
    usageFile: usageFileIn(spec.dir, 'emulate'),
    timeoutMs: spec.timeoutMs + 120_000,
    onStdoutLine: (line) => {
      if (line.includes('X API emulator on')) listening?.();
    },
  });
  const ready = await Promise.race([up.then(() => true), child.done.then(() => false), sleep(60_000).then(() => false)]);
  if (!ready) {
    const r = await child.stop(2000);
    return { error: `crowdpulse emulate did not start: ${tail(r)}` };
  }
  return { child, url: `http://127.0.0.1:${port}` };
}

export async function runEmbedded(spec: EmbeddedSpec): Promise<TopologyRun> {
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  const db = join(spec.dir, 'store.db');
  const deadLetters = join(spec.dir, 'dead-letters.ndjson');
  const source = spec.source ?? 'replay';
  const processes: ProcessFigures[] = [];
  const problems: string[] = [];
  const env: Record<string, string> = {
    CROWDPULSE_DEAD_LETTER_PATH: deadLetters,
    CROWDPULSE_LOG_INTERVAL_SECONDS: '0.25',
    CROWDPULSE_LOG_LEVEL: 'warn',
    CROWDPULSE_MODEL_MAX_BATCH: String(spec.maxBatch ?? 0),
  };
  let emulator: RunningChild | undefined;
  let sourceArgs: string[];
  if (source === 'x-emulator') {
    const emu = await startEmulator(spec, (spec.expected as EmulatedExpected).emulatorLimit);
    if ('error' in emu) return { ok: false, problems: [emu.error], posts: 0, timing: undefined, processes, dir: spec.dir };
    emulator = emu.child;
    Object.assign(env, xClientEnv(emu.url, spec.dir));
    sourceArgs = ['--source', 'x'];
  } else {
    sourceArgs = [
      '--input',
      spec.fixture,
      '--limit',
      String(spec.expected.lines),
      ...(spec.rate === undefined ? ['--mode', 'max'] : ['--mode', 'rate', '--rate', String(spec.rate)]),
    ];
  }
  const port = await freePort();
  const child = startChild({
    name: `run/${spec.tier}`,
    args: [
      'bin/crowdpulse.js',
      'run',
      ...sourceArgs,
      '--model',
      spec.tier,
      '--db',
      db,
      '--port',
      String(port),
      '--progress',
      'lines',
      ...(spec.threads === undefined ? [] : ['--threads', String(spec.threads)]),
    ],
    env,
    usageFile: usageFileIn(spec.dir, 'run'),
    timeoutMs: spec.timeoutMs,
    ...(spec.cpuProfileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${spec.cpuProfileDir}`] } : {}),
    onStderrLine: (line) => {
      const m = PROGRESS.exec(line);
      if (m) spec.onProgress?.(Number(m[1]));
    },
  });

  if (emulator) {
    // A stream does not end: wait until the store has every post (and stays put a second), then stop the run.
    const target = spec.expected.posts + spec.expected.duplicateLines;
    const deadline = performance.now() + spec.timeoutMs;
    let last = -1;
    let stableSince = performance.now();
    for (;;) {
      if (child.process.exitCode !== null) break;
      const m = await scrape(`http://127.0.0.1:${port}`, 1000);
      const stored = m ? sumOf(m, 'crowdpulse_posts_total', { stage: 'store', direction: 'out' }) : last;
      spec.onProgress?.(Math.max(0, stored));
      if (stored !== last) {
        last = stored;
        stableSince = performance.now();
      }
      if (stored >= target && performance.now() - stableSince > 1000) break;
      if (performance.now() > deadline) {
        problems.push(`timed out with ${stored} of ${target} posts stored`);
        break;
      }
      await sleep(100);
    }
  }
  const result = emulator ? await child.stop(30_000) : await child.done;
  processes.push(processFigures('run', result.usage, result.wallSeconds));
  if (emulator) {
    const e = await emulator.stop(5000);
    processes.push(processFigures('x emulator', e.usage, e.wallSeconds));
  }
  if (result.code !== 0) {
    problems.push(`crowdpulse run exited with ${result.code ?? result.signal}: ${tail(result)}`);
    return { ok: false, problems, posts: 0, timing: undefined, processes, dir: spec.dir };
  }
  const readout = readSqlite(db);
  const verdict = compareRows(spec.expected, readout.rowsPerTopic, readout.distinctPosts);
  problems.push(...verdict.problems, ...compareDeadLetters(spec.expected, deadLettersInFile(deadLetters)));
  const timing = timingOf(spec.expected.ids, readout.times, spec.rate);
  if (problems.length === 0 && !spec.keepFiles) rmSync(spec.dir, { recursive: true, force: true });
  return { ok: problems.length === 0, problems, posts: readout.distinctPosts, timing, processes, dir: spec.dir };
}
