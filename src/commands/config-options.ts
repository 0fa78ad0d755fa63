import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { setLogLevel } from '../telemetry/log.js';

/** A command-line flag that sets one config key. */
export interface ConfigFlag {
  readonly flags: string;
  readonly description: string;
  /** Dotted config key, e.g. "model.name". */
  readonly key: string;
  /** commander's camelCase name of the option. */
  readonly option: string;
}

export const FLAG = {
  input: { flags: '-i, --input <file>', description: 'recorded posts to replay (ndjson, optionally gzip)', key: 'replay.path', option: 'input' },
  mode: { flags: '--mode <mode>', description: 'replay pace: max | rate | recorded', key: 'replay.mode', option: 'mode' },
  rate: { flags: '--rate <postsPerSecond>', description: 'replay rate for --mode rate', key: 'replay.rate', option: 'rate' },
  speed: { flags: '--speed <factor>', description: 'speed-up of the recorded pace for --mode recorded', key: 'replay.speed', option: 'speed' },
  limit: {
    flags: '--limit <posts>',
    description: 'end the run after the source has read this many messages, posts and dead letters (0 = no end); every source',
    key: 'pipeline.limit',
    option: 'limit',
  },
  source: { flags: '--source <kind>', description: 'where posts come from: replay | x | kafka', key: 'source.kind', option: 'source' },
  model: { flags: '-m, --model <model>', description: 'sentiment model: fast | accurate | a directory with model.json', key: 'model.name', option: 'model' },
  threads: { flags: '--threads <n>', description: 'inference worker threads (0 = one per core)', key: 'model.threads', option: 'threads' },
  maxBatch: { flags: '--max-batch <n>', description: 'most posts per inference call (0 = the tier default)', key: 'model.maxBatch', option: 'maxBatch' },
  sink: { flags: '--sink <kind>', description: 'where scored posts go: sqlite | influxdb | kafka', key: 'sink.kind', option: 'sink' },
  db: { flags: '--db <file>', description: 'SQLite file of the embedded store', key: 'sqlite.path', option: 'db' },
  port: { flags: '-p, --port <port>', description: 'HTTP port for /metrics /healthz /readyz (0 = any free port)', key: 'http.port', option: 'port' },
  progress: { flags: '--progress <mode>', description: 'auto | bar | lines | off', key: 'log.progress', option: 'progress' },
} as const satisfies Record<string, ConfigFlag>;

export function addConfigFlags(command: Command, flags: readonly ConfigFlag[]): Command {
  for (const f of flags) command.option(f.flags, f.description);
  return command;
}

/**
 * Builds the configuration for a command from its flags, the environment and the --config file.
 * A bad value throws its ConfigError (CP_CONFIG_INVALID): src/cli.ts prints the one line, exit status 2.
 */
export function configFrom(command: Command, flags: readonly ConfigFlag[]): Config {
  const options = command.optsWithGlobals<Record<string, unknown>>();
  const flagValues: Record<string, { value: unknown; flag: string }> = {};
  for (const f of flags) {
    const value = options[f.option];
    if (value !== undefined) flagValues[f.key] = { value, flag: `--${f.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` };
  }
  const loaded = loadConfig({ file: options.config as string | undefined, env: process.env, flags: flagValues });
  if (!loaded.ok) throw loaded.error;
  setLogLevel(loaded.value.log.level);
  return loaded.value;
}
