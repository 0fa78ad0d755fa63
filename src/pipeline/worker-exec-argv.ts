/**
 * execArgv for Piscina workers that run TypeScript files: worker threads do not inherit a loader
 * registered programmatically (bin/crowdpulse.js), so each worker imports tsx itself.
 */
export function typescriptWorkerExecArgv(): string[] {
  const argv = [...process.execArgv];
  const hasTsx =
    argv.some((arg, i) => (arg === '--import' || arg === '--loader') && argv[i + 1]?.startsWith('tsx')) || argv.some((arg) => arg.startsWith('--import=tsx'));
  return hasTsx ? argv : [...argv, '--import', 'tsx'];
}
