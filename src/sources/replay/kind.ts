import type { Config } from '../../config/schema.js';
import { err } from '../../contract/index.js';
import { ConfigError } from '../../config/load.js';
import { codeOf, CrowdpulseError } from '../../errors.js';
import type { SourceKind } from '../../pipeline/kinds.js';
import { governorPacer } from '../../x/governor.js';
import { framerLimits } from '../line-framer.js';
import { buildGovernor } from '../x-stream/index.js';
import { ReplaySource } from './replay-source.js';

/** The config a replay reads: its section, the message limits, and the X budget when governed. */
export type ReplaySourceSection = Pick<Config, 'replay' | 'limits' | 'x' | 'pipeline'>;

/** source.kind = replay: a recorded stream (ndjson, optionally gzip), optionally paced by the X post budget. */
export const replaySourceKind: SourceKind<ReplaySourceSection> = {
  section: (config) => config,
  build({ replay, limits, x, pipeline }, ctx) {
    const { path, mode, rate, speed, batchSize, governed } = replay;
    const { limit } = pipeline;
    const lineLimits = framerLimits(limits);
    if (!governed) return ReplaySource.open({ path, mode, rate, speed, batchSize, limit, lineLimits }, ctx.deadLetters);
    let governor: ReturnType<typeof buildGovernor>;
    try {
      governor = buildGovernor(x);
    } catch (e) {
      return err(new CrowdpulseError(codeOf(e, 'CP_X_GOVERNOR_STATE'), `replay.governed: ${(e as Error).message}`, { cause: e }));
    }
    if (!governor) return err(new ConfigError('replay.governed needs a post budget: set x.monthlyCap (CROWDPULSE_X_MONTHLY_CAP) above 0'));
    return ReplaySource.open({ path, mode, rate, speed, batchSize, limit, lineLimits, governor: governorPacer(governor) }, ctx.deadLetters);
  },
};
