import { z } from 'zod';
import { flag, httpUrl, nonNegativeInt, positiveInt } from '../types.js';

/**
 * The X API v2 filtered stream (source.kind = x), its rules file, the post-budget governor and the
 * run-time rules admin endpoint. Secrets are not config values: the bearer token comes from
 * CROWDPULSE_X_BEARER_TOKEN / X_BEARER_TOKEN or `bearerTokenFile`; the admin token from
 * CROWDPULSE_X_ADMIN_TOKEN or `adminTokenFile`.
 */
export const xSection = z
  .object({
    /** https://api.x.com, or an emulator's URL (crowdpulse emulate). */
    apiUrl: httpUrl.default('https://api.x.com'),
    bearerTokenFile: z.string().default(''),
    /** YAML file of {value, tag} rules synced by `crowdpulse rules sync` (and at start when syncRulesOnStart). */
    rulesFile: z.string().default('rules.yaml'),
    syncRulesOnStart: flag.default(false),
    /** Most rules the stream may hold (X's plan limit; `rules validate` checks the rules file against it). */
    maxRules: positiveInt.default(1000),
    /** Longest rule value in characters (X's plan limit: Basic 512, Pro 1024; Enterprise 2048). */
    maxRuleLength: positiveInt.max(2048).default(512),
    /** No byte (post or keep-alive) for this long → the connection is considered stalled and replaced. X sends keep-alives every 20 s. */
    keepAliveTimeoutMs: positiveInt.default(30_000),
    /** Posts a batch handed to the pipeline holds at most, and how long a partial batch may wait. */
    batchSize: positiveInt.default(64),
    batchWaitMs: positiveInt.default(200),
    /** Post budget per billing period (X Basic: 10,000; Pro: 1,000,000). 0 = no governor. */
    monthlyCap: nonNegativeInt.default(10_000),
    /** Day of month (UTC) the cap resets; X reports it as cap_reset_day. */
    capResetDay: z.coerce.number().int().min(1).max(31).default(1),
    /** Posts the budget line allows ahead of an even spread (0 = an hour of the even rate). */
    burst: nonNegativeInt.default(0),
    /** Posts kept back from the cap for messages already in flight when the connection is cut. */
    reserve: nonNegativeInt.default(50),
    /** Reconcile the count with GET /2/usage/tweets (every usageCheckMinutes; 0 = never). */
    usageCheckMinutes: nonNegativeInt.default(15),
    /** The governor's persisted count (atomic JSON writes). */
    statePath: z.string().min(1).default('data/x-governor.json'),
    /** Bearer token file protecting the rules admin endpoint; empty and no CROWDPULSE_X_ADMIN_TOKEN → endpoint off. */
    adminTokenFile: z.string().default(''),
    /**
     * Where the stream's coverage events go (connected, disconnected, paused, capped; README
     * "Coverage"): sink = the role's own store (crowdpulse run); influxdb or sqlite = that store's
     * section (the ingest role, whose sink is Kafka); none = not recorded.
     */
    coverageStore: z.enum(['sink', 'influxdb', 'sqlite', 'none']).default('sink'),
    /**
     * Fill every hole the stream left (a disconnect, a stall, a governor pause) from
     * GET /2/tweets/search/recent, rule by rule, within the post budget (README "Backfill").
     */
    backfill: flag.default(true),
    /** Widens each hole on both sides, so that posts near its edges are not missed (seconds). */
    backfillMarginSeconds: nonNegativeInt.default(5),
    /** X's recent search wants end_time at least 10 s in the past: a hole is filled this long after it closed (seconds). */
    backfillDelaySeconds: nonNegativeInt.default(12),
    /** Holes waiting to be filled at most; past it the two oldest are merged into one. */
    backfillMaxPending: positiveInt.default(64),
  })
  .prefault({});

export type XConfig = z.infer<typeof xSection>;
