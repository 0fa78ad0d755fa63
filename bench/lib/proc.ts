/**
 * CPU time and memory of a process we did not start ourselves (the Kafka broker, influxd), read
 * from /proc: utime+stime in clock ticks (100 Hz on Linux) and VmHWM / VmRSS.
 */
import { readFileSync } from 'node:fs';

const TICKS = 100;

export interface ProcSnapshot {
  readonly cpuSeconds: number;
  readonly rssMiB: number;
  readonly hwmMiB: number;
  readonly at: number;
}

export function procSnapshot(pid: number): ProcSnapshot | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { cpuSeconds: (utime + stime) / TICKS, rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024, at: performance.now() };
  } catch {
    return undefined;
  }
}

/** Samples RSS while running (for the peak during a run rather than since the service started). */
export class ProcWatch {
  readonly #first: ProcSnapshot | undefined;
  #peakRss = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 200,
  ) {
    this.#first = procSnapshot(pid);
    this.#peakRss = this.#first?.rssMiB ?? 0;
    this.#timer = setInterval(() => {
      const s = procSnapshot(pid);
      if (s) this.#peakRss = Math.max(this.#peakRss, s.rssMiB);
    }, everyMs);
    this.#timer.unref();
  }

  stop(): { cpuSeconds: number; wallSeconds: number; peakRssMiB: number } | undefined {
    clearInterval(this.#timer);
    const last = procSnapshot(this.pid);
    if (!this.#first || !last) return undefined;
    this.#peakRss = Math.max(this.#peakRss, last.rssMiB);
    return { cpuSeconds: last.cpuSeconds - this.#first.cpuSeconds, wallSeconds: (last.at - this.#first.at) / 1000, peakRssMiB: this.#peakRss };
  }
}
