/** What the numbers were measured on: CPU, memory, OS, load, and the versions of what ran. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO } from './child.js';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  /** Nominal clock from the TSC (what a VM exposes; boost clocks are not visible from inside). */
  readonly clockMHz: number;
  readonly vnni: boolean;
  readonly avx512: boolean;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly kernel: string;
  readonly os: string;
  readonly loadAverageAtStart: readonly number[];
  readonly hypervisor: boolean;
}

export function machine(): Machine {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(' ') ?? [];
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? cpus()[0]?.speed ?? 0);
  const osRelease = existsSync('/etc/os-release') ? (/^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'linux') : 'linux';
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    clockMHz: Math.round(mhz),
    vnni: flags.includes('avx512_vnni'),
    avx512: flags.includes('avx512f'),
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
    kernel: release(),
    os: osRelease,
    loadAverageAtStart: loadavg().map((x) => +x.toFixed(2)),
    hypervisor: flags.includes('hypervisor'),
  };
}

function pkgVersion(name: string): string {
  const file = join(REPO, 'node_modules', name, 'package.json');
  return existsSync(file) ? String((JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version) : 'absent';
}

export function versions(): Record<string, string> {
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' }).trim() !== '';
  } catch {
    // not a git checkout
  }
  return {
    crowdpulse: `${commit}${dirty ? ' (with uncommitted changes)' : ''}`,
    node: process.version,
    'onnxruntime-node': pkgVersion('onnxruntime-node'),
    piscina: pkgVersion('piscina'),
    'better-sqlite3': pkgVersion('better-sqlite3'),
    'node-rdkafka': pkgVersion('node-rdkafka'),
    '@influxdata/influxdb-client': pkgVersion('@influxdata/influxdb-client'),
    'vader-sentiment': pkgVersion('vader-sentiment'),
  };
}

/**
 * Peak int8 throughput of this CPU: cores × clock × int8 ops per cycle per core. Zen 4 runs a
 * 512-bit VPDPBUSD (64 u8×s8 multiply-accumulates) per cycle per core — its two 256-bit FMA pipes
 * each take half — so 64 MAC = 128 ops per cycle per core with AVX-512 VNNI.
 */
export function int8Peak(m: Machine): { opsPerSecond: number; macsPerCyclePerCore: number; formula: string } {
  const macsPerCyclePerCore = m.vnni ? 64 : 32;
  const opsPerSecond = m.cores * m.clockMHz * 1e6 * macsPerCyclePerCore * 2;
  return {
    opsPerSecond,
    macsPerCyclePerCore,
    formula: `${m.cores} cores × ${(m.clockMHz / 1000).toFixed(2)} GHz × ${macsPerCyclePerCore} int8 MAC/cycle (${m.vnni ? 'one 512-bit VPDPBUSD' : 'AVX2 VPMADDUBSW'}) × 2 ops/MAC = ${(opsPerSecond / 1e9).toFixed(0)} G int8 ops/s`,
  };
}
