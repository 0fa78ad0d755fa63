/**
 * Preloaded into every process the bench starts (`node --import ./bench/lib/usage-reporter.mjs`):
 * when the process exits, the main thread writes its own resource usage (CPU time of all threads,
 * peak RSS) as JSON to $BENCH_USAGE_FILE. Worker threads inherit the flag and do nothing.
 * Plain JavaScript: worker threads load --import modules before any TypeScript loader is active.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const target = process.env.BENCH_USAGE_FILE;
if (isMainThread && target) {
  const started = performance.now();
  process.on('exit', (code) => {
    const u = process.resourceUsage();
    writeFileSync(
      target,
      JSON.stringify({
        pid: process.pid,
        exitCode: code,
        wallSeconds: (performance.now() - started) / 1000,
        userCpuSeconds: u.userCPUTime / 1e6,
        systemCpuSeconds: u.systemCPUTime / 1e6,
        // ru_maxrss is in KiB on Linux.
        peakRssMiB: u.maxRSS / 1024,
        voluntaryContextSwitches: u.voluntaryContextSwitches,
        involuntaryContextSwitches: u.involuntaryContextSwitches,
      }),
    );
  });
}
