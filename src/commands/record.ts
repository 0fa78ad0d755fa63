import { framerLimits } from '../sources/line-framer.js';
import { Command } from 'commander';
import { buildGovernor } from '../sources/x-stream/index.js';
import { recordStream } from '../sources/x-stream/recorder.js';
import { systemClock } from '../x/clock.js';
import { commandClient, shutdownSignal } from './x-support.js';
import { CrowdpulseError } from '../errors.js';
import { STREAM_TWEET_FIELDS } from '../contract/index.js';
import { configFrom } from './config-options.js';

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new CrowdpulseError('CP_USAGE', `not a non-negative number: ${v}`);
  return n;
};

export function recordCommand(): Command {
  const command = new Command('record')
    .description(
      'save the live X filtered stream (raw messages, one per line) to an ndjson(.gz) file that `--source replay --input FILE` plays back; follows x.* settings (budget, reconnects)',
    )
    .requiredOption('-o, --out <file>', 'output file (.ndjson or .ndjson.gz)')
    .option('--limit <messages>', 'stop after this many messages (0 = until interrupted)', num, 0)
    .option('--duration <seconds>', 'stop after this long (0 = until interrupted)', num, 0);
  command.action(async (opts: { out: string; limit: number; duration: number }) => {
    const config = configFrom(command, []);
    const client = commandClient(config.x);
    const governor = buildGovernor(config.x);
    const signal = opts.duration > 0 ? AbortSignal.any([shutdownSignal(), AbortSignal.timeout(opts.duration * 1000)]) : shutdownSignal();
    // A failure (token rejected, stream refused, output not writable) is one line and exit 1 from src/cli.ts.
    const count = await recordStream(
      {
        client,
        clock: systemClock,
        ...(governor ? { governor } : {}),
        out: opts.out,
        limit: opts.limit,
        tweetFields: STREAM_TWEET_FIELDS,
        keepAliveTimeoutMs: config.x.keepAliveTimeoutMs,
        lineLimits: framerLimits(config.limits),
        usageCheckMs: config.x.usageCheckMinutes * 60_000,
        capResetDay: config.x.capResetDay,
      },
      signal,
    );
    process.stdout.write(`recorded ${count} messages to ${opts.out}\n`);
  });
  return command;
}
