import type { TwitterApi } from 'twitter-api-v2';
import { err, ok, STREAM_TWEET_FIELDS, type Result } from '../../contract/index.js';
import type { Config } from '../../config/schema.js';
import type { XConfig } from '../../config/sections/x.js';
import type { DeadLetterSink } from '../../pipeline/component.js';
import type { BuildContext, SourceKind } from '../../pipeline/kinds.js';
import type { RouteHandler } from '../../telemetry/http-server.js';
import { createXClient } from '../../x/client.js';
import { systemClock, type Clock } from '../../x/clock.js';
import { readBearerToken } from '../../x/credentials.js';
import { PostBudgetGovernor } from '../../x/governor.js';
import { RestRateLimits } from '../../x/rest-rate-limits.js';
import { readAdminToken, rulesAdminRoute } from '../../x/rules-admin.js';
import { loadRulesDocument, loadRulesFile } from '../../x/rules.js';
import { existsSync } from 'node:fs';
import { framerLimits } from '../line-framer.js';
import { XStreamSource } from './x-stream-source.js';
import type { CoverageRecorder } from '../../pipeline/coverage-recorder.js';

export { XStreamSource } from './x-stream-source.js';

export interface XIngest {
  readonly source: XStreamSource;
  readonly client: TwitterApi;
  readonly governor: PostBudgetGovernor | undefined;
  /** The rules admin route to mount on the role's HTTP port; undefined when no admin token is configured. */
  readonly adminRoute: RouteHandler | undefined;
}

/**
 * A governor from the x section (undefined when monthlyCap = 0), with the per-topic budgets of the
 * rules file when it has them. Throws on a corrupt state file or rules file.
 */
export function buildGovernor(x: XConfig, clock: Clock = systemClock): PostBudgetGovernor | undefined {
  if (x.monthlyCap === 0) return undefined;
  let topicBudgets: ReadonlyMap<string, number> | undefined;
  if (existsSync(x.rulesFile)) {
    const doc = loadRulesDocument(x.rulesFile);
    if (!doc.ok) throw doc.error;
    if (doc.value.budgets.size > 0) topicBudgets = doc.value.budgets;
  }
  return PostBudgetGovernor.open({
    ...(topicBudgets ? { topicBudgets } : {}),
    cap: x.monthlyCap,
    resetDay: x.capResetDay,
    burst: x.burst,
    reserve: Math.min(x.reserve, x.monthlyCap - 1),
    statePath: x.statePath,
    clock,
  });
}

/** A twitter-api-v2 client from the x section and the environment; the error is the one line to print. */
export function buildXClient(x: XConfig, env: NodeJS.ProcessEnv = process.env, clock: Clock = systemClock): Result<TwitterApi, Error> {
  const token = readBearerToken(env, x.bearerTokenFile);
  if (!token.ok) return token;
  return ok(createXClient({ bearerToken: token.value, apiUrl: x.apiUrl, rateLimits: new RestRateLimits(clock) }));
}

/**
 * source.kind = x: the filtered stream, its governor and the rules admin route, from config.
 * (The lead's buildSource returns `.source`; a role that has an HTTP server mounts `.adminRoute`.)
 */
/** The config an X stream source reads. */
export type XSourceSection = Pick<Config, 'x' | 'limits' | 'pipeline' | 'replay'>;

export function buildXIngest(
  config: XSourceSection,
  deadLetters: DeadLetterSink,
  env: NodeJS.ProcessEnv = process.env,
  readiness: BuildContext['readiness'] = () => undefined,
  coverage?: CoverageRecorder,
): Result<XIngest, Error> {
  const x = config.x;
  const client = buildXClient(x, env);
  if (!client.ok) return client;
  let governor: PostBudgetGovernor | undefined;
  try {
    governor = buildGovernor(x);
  } catch (e) {
    return err(e as Error);
  }
  const admin = readAdminToken(env, x.adminTokenFile);
  if (!admin.ok) return admin;
  const startupRules = x.syncRulesOnStart ? loadRulesFile(x.rulesFile) : undefined;
  if (startupRules && !startupRules.ok) return startupRules;
  const source = new XStreamSource({
    client: client.value,
    clock: systemClock,
    deadLetters,
    ...(governor ? { governor } : {}),
    tweetFields: STREAM_TWEET_FIELDS,
    keepAliveTimeoutMs: x.keepAliveTimeoutMs,
    lineLimits: framerLimits(config.limits),
    batchSize: x.batchSize,
    batchWaitMs: x.batchWaitMs,
    bufferCapacity: Math.max(x.batchSize * 4, config.pipeline.queueCapacity),
    usageCheckMs: x.usageCheckMinutes * 60_000,
    capResetDay: x.capResetDay,
    ...(x.backfill ? { backfill: { marginMs: x.backfillMarginSeconds * 1000, delayMs: x.backfillDelaySeconds * 1000, maxPending: x.backfillMaxPending } } : {}),
    ...(startupRules?.ok ? { startupRules: startupRules.value } : {}),
    ...(coverage ? { coverage } : {}),
    limit: config.pipeline.limit,
  });
  readiness('x-stream', () => !source.hasFailed);
  return ok({ source, client: client.value, governor, adminRoute: rulesAdminRoute(client.value, admin.value) });
}

/**
 * source.kind = x: the filtered stream; its routes are the rules admin API, when an admin token
 * is configured (built before the source, so that a bad token file stops the role at once).
 */
export const xSourceKind: SourceKind<XSourceSection> = {
  section: (config) => config,
  build(section, ctx) {
    const built = buildXIngest(section, ctx.deadLetters, process.env, ctx.readiness, ctx.coverage);
    return built.ok ? ok(built.value.source) : built;
  },
  routes(section) {
    const admin = buildRulesAdminRoute(section.x);
    if (!admin.ok) return admin;
    return ok(admin.value ? [admin.value] : []);
  },
};

/** The rules admin route for a role's HTTP port; ok(undefined) when no admin token is configured (endpoint off). */
export function buildRulesAdminRoute(x: XConfig, env: NodeJS.ProcessEnv = process.env): Result<RouteHandler | undefined, Error> {
  const admin = readAdminToken(env, x.adminTokenFile);
  if (!admin.ok) return admin;
  if (admin.value === undefined) return ok(undefined);
  const client = buildXClient(x, env);
  if (!client.ok) return client;
  return ok(rulesAdminRoute(client.value, admin.value));
}
