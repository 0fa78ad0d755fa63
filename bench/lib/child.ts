/**
 * Starts a bench child process with its resource usage captured (usage-reporter.mjs), its stderr
 * kept (tail) and scanned for progress lines, and a hard timeout. Every process the bench starts
 * goes through here, so every one is stopped again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const REPORTER = fileURLToPath(new URL('./usage-reporter.mjs', import.meta.url));

export interface Usage {
  readonly pid: number;
  readonly exitCode: number;
  readonly wallSeconds: number;
  readonly userCpuSeconds: number;
  readonly systemCpuSeconds: number;
  readonly peakRssMiB: number;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderrTail: string;
  readonly usage: Usage | undefined;
  readonly wallSeconds: number;
}

export interface ChildSpec {
  /** Name for messages ("run/fast", "analyze"). */
  readonly name: string;
  /** Script and arguments after the node flags, e.g. ['bin/crowdpulse.js', 'run', ...]. */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Where the usage JSON goes (a fresh file per process). */
  readonly usageFile: string;
  readonly timeoutMs: number;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Called with every stderr line (progress parsing). */
  readonly onStderrLine?: (line: string) => void;
  /** Called with every stdout line. */
  readonly onStdoutLine?: (line: string) => void;
}

export interface RunningChild {
  readonly process: ChildProcess;
  readonly done: Promise<ChildResult>;
  /** SIGTERM (drain and exit), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ChildResult>;
}

const TAIL = 8_000;

function lineSplitter(onLine: ((line: string) => void) | undefined, keep: (chunk: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    const text = chunk.toString('utf8');
    keep(text);
    if (!onLine) return;
    pending += text;
    const parts = pending.split(/\r?\n|\r/);
    pending = parts.pop() ?? '';
    for (const p of parts) if (p.length > 0) onLine(p);
  };
}

export function startChild(spec: ChildSpec): RunningChild {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', REPORTER, ...(spec.nodeFlags ?? []), ...spec.args], {
    cwd: REPO,
    env: { ...process.env, ...spec.env, BENCH_USAGE_FILE: spec.usageFile, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderrTail = '';
  child.stdout?.on(
    'data',
    lineSplitter(spec.onStdoutLine, (t) => {
      stdout += t;
    }),
  );
  child.stderr?.on(
    'data',
    lineSplitter(spec.onStderrLine, (t) => {
      stderrTail = (stderrTail + t).slice(-TAIL);
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<ChildResult>((resolve) => {
    timer = setTimeout(() => {
      stderrTail += `\n[bench] ${spec.name}: killed after ${spec.timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, spec.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let usage: Usage | undefined;
      if (existsSync(spec.usageFile)) {
        try {
          usage = JSON.parse(readFileSync(spec.usageFile, 'utf8')) as Usage;
        } catch {
          usage = undefined;
        }
      }
      resolve({ code, signal, stdout, stderrTail, usage, wallSeconds: (performance.now() - started) / 1000 });
    });
  });
  const stop = async (graceMs = 15_000): Promise<ChildResult> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await done;
      clearTimeout(kill);
      return result;
    }
    return done;
  };
  return { process: child, done, stop };
}

/** One-shot: run to completion and fail with the stderr tail if the exit status is not 0. */
export async function runChild(spec: ChildSpec): Promise<ChildResult> {
  const result = await startChild(spec).done;
  if (result.code !== 0) {
    throw new Error(`${spec.name} exited with ${result.code ?? result.signal}:\n${result.stderrTail.split('\n').slice(-25).join('\n')}`);
  }
  return result;
}

/** Parses the JSON a measuring child prints as its last stdout line. */
export function lastJsonLine<T>(stdout: string, name: string): T {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`${name} printed no JSON result`);
  return JSON.parse(line) as T;
}

export const usageFileIn = (dir: string, name: string): string => join(dir, `usage-${name.replace(/[^a-z0-9.-]+/gi, '_')}.json`);
