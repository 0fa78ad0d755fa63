/**
 * execArgv for Piscina workers that run TypeScript files: worker threads do not inherit a loader
 * registered programmatically (bin/crowdpulse.js), so each worker imports tsx itself. A process
 * started with tsx (`node --import tsx`) gets undefined: its workers inherit its options, tsx
 * included. Passing process.execArgv back would fail there on Node 24, whose test runner starts each
 * test file with every option spelled out in execArgv, process-wide and V8 ones included
 * (--v8-pool-size, --secure-heap, --stack-trace-limit...), which a Worker's execArgv refuses
 * (ERR_WORKER_INVALID_EXEC_ARGV).
 */
export function typescriptWorkerExecArgv(): string[] | undefined {
  const argv = [...process.execArgv];
  const hasTsx =
    argv.some((arg, i) => (arg === '--import' || arg === '--loader') && argv[i + 1]?.startsWith('tsx')) || argv.some((arg) => arg.startsWith('--import=tsx'));
  return hasTsx ? undefined : [...argv, '--import', 'tsx'];
}
