/** The shape of bench/results/*.json: everything a table row is made from, and its raw samples. */
import type { Machine } from './machine.js';
import type { ThreadProfile } from './cpuprofile.js';
import type { Spread } from './stats.js';

export interface RunFigures {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly seconds?: number;
  readonly postsPerSecond?: number;
  readonly latencyP50Ms?: number;
  readonly latencyP95Ms?: number;
  readonly latencyP99Ms?: number;
  readonly latencyMaxMs?: number;
  readonly ingestPostsPerSecond?: number;
  readonly lagP50Ms?: number;
  readonly lagP99Ms?: number;
  readonly lagMaxMs?: number;
  readonly lagEndMs?: number;
  /** How latency was measured when not from per-post stage times. */
  readonly latencySource?: string;
  readonly estimatedLatencyP50Ms?: number;
  readonly estimatedLatencyP99Ms?: number;
  /** Epoch ms of the first ingest and the last store (the measured window). */
  readonly startMs?: number;
  readonly endMs?: number;
  /** Per process: CPU seconds, cores used on average, peak RSS. */
  readonly processes: readonly {
    readonly role: string;
    readonly cpuSeconds: number;
    readonly cpuCores: number;
    readonly peakRssMiB: number;
    readonly wallSeconds: number;
  }[];
}

export interface TopologyResult {
  readonly topology: 'embedded' | 'kafka';
  /** kafka: where the store role writes. */
  readonly store: 'sqlite' | 'influxdb';
  readonly source: string;
  readonly tier: string;
  readonly modelId: string;
  readonly posts: number;
  /** undefined for unpaced (max) runs. */
  readonly targetRate?: number;
  readonly rateLabel?: string;
  readonly durationSeconds?: number;
  readonly runs: readonly RunFigures[];
  /** Over the successful runs only. */
  readonly figures: Readonly<Record<string, Spread>>;
  /** Per process role: cpuSeconds / cpuCores / peakRssMiB spreads. */
  readonly processFigures: Readonly<Record<string, Readonly<Record<string, Spread>>>>;
  readonly failed: number;
  readonly skipped?: string;
  readonly latencySource?: string;
}

export interface SideBySide {
  readonly tier: string;
  readonly analyser: string;
  readonly description: string;
  readonly posts: number;
  readonly postsPerSecond: Spread | undefined;
  /** crowdpulse embedded throughput / this analyser's. */
  readonly crowdpulseSpeedup?: number;
  readonly skipped?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface Goal {
  readonly goal: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  readonly note?: string;
}

export interface Profile {
  readonly what: string;
  readonly dir: string;
  /** Per thread (main, workers; per role for the Kafka topology), over the measured window. */
  readonly threads: readonly ThreadProfile[];
}

export interface BenchResults {
  readonly schema: 'crowdpulse-bench/1';
  readonly startedAt: string;
  finishedAt: string;
  readonly command: string;
  readonly machine: Machine;
  readonly versions: Readonly<Record<string, string>>;
  readonly config: Readonly<Record<string, unknown>>;
  readonly models: Record<string, { id: string; dir: string; onnx: string; bytes: number }>;
  topologies: TopologyResult[];
  sideBySide: SideBySide[];
  sustained: TopologyResult[];
  micro: Record<string, unknown>;
  goals: Goal[];
  profiles: Profile[];
  notes: string[];
}
