import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { err, ok, type Result } from '../contract/result.js';
import { CrowdpulseError } from '../errors.js';
import { describeRuleErrors, isDuplicateRule, judgeAddErrors, refusalMessage, type AlreadyLive, type RuleErrorItem } from './rules-refusals.js';

export type { AlreadyLive, RuleErrorItem } from './rules-refusals.js';

/** A rule as crowdpulse declares it: the tag becomes the topic of every post the rule matches. */
export const desiredRuleSchema = z.object({
  // X's longest rule is 2048 characters (Enterprise); the plan's limit is x.maxRuleLength (`rules validate`).
  value: z.string().trim().min(1, 'value must not be empty').max(2048),
  tag: z.string().trim().min(1, 'tag must not be empty (it is the topic)').max(128),
});
export type DesiredRule = z.infer<typeof desiredRuleSchema>;

/** Posts per billing period, by topic (tag): crowdpulse's own, never sent to X. */
export const budgetsSchema = z.record(z.string().min(1), z.number().int('a budget is a whole number of posts').nonnegative('a budget is never negative'));

export const rulesFileSchema = z.object({ rules: z.array(desiredRuleSchema), budgets: budgetsSchema.optional() }).strict();

/** A rules file: the rules, and the optional per-topic budgets (`budgets: {topic: posts per period}`). */
export interface RulesDocument {
  readonly rules: DesiredRule[];
  readonly budgets: ReadonlyMap<string, number>;
}

export interface LiveRule {
  readonly id: string;
  readonly value: string;
  readonly tag?: string;
}

export interface RulesDiff {
  readonly add: readonly DesiredRule[];
  readonly remove: readonly LiveRule[];
  readonly keep: readonly LiveRule[];
}

/** A rule problem, with X's words when X said it; a refused add also carries what was refused and what was already live. */
export class RulesError extends CrowdpulseError<'CP_X_RULES'> {
  readonly refused: readonly RuleErrorItem[];
  readonly alreadyLive: readonly AlreadyLive[];
  constructor(message: string, options?: { cause?: unknown; refused?: readonly RuleErrorItem[]; alreadyLive?: readonly AlreadyLive[] }) {
    super('CP_X_RULES', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.refused = options?.refused ?? [];
    this.alreadyLive = options?.alreadyLive ?? [];
  }
}

/** Validates a rules document (parsed YAML/JSON): shape, budgets' shape, no duplicate values. */
export function parseRulesDocument(doc: unknown, where: string): Result<RulesDocument, RulesError> {
  const parsed = rulesFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(
      new RulesError(
        `${where}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'} (expected "rules: [{value, tag}, ...]" and optionally "budgets: {topic: posts}")`,
      ),
    );
  }
  const seen = new Map<string, number>();
  for (const [i, r] of parsed.data.rules.entries()) {
    const prev = seen.get(r.value);
    if (prev !== undefined)
      return err(new RulesError(`${where}: rules.${i} repeats the value of rules.${prev} ("${r.value}"); X refuses duplicate rule values`));
    seen.set(r.value, i);
  }
  return ok({ rules: parsed.data.rules, budgets: new Map(Object.entries(parsed.data.budgets ?? {})) });
}

/** Validates a rules document and returns its rules (the budgets, if any, are checked and left out). */
export function validateRulesDocument(doc: unknown, where: string): Result<DesiredRule[], RulesError> {
  const parsed = parseRulesDocument(doc, where);
  return parsed.ok ? ok(parsed.value.rules) : parsed;
}

/** Reads and parses a rules file's YAML, unchecked. */
export function readRulesYaml(path: string): Result<unknown, RulesError> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err(new RulesError(`rules file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  }
  try {
    return ok(parseYaml(text) as unknown);
  } catch (e) {
    return err(new RulesError(`rules file ${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`));
  }
}

/** The rules file's rules and budgets. */
export function loadRulesDocument(path: string): Result<RulesDocument, RulesError> {
  const doc = readRulesYaml(path);
  return doc.ok ? parseRulesDocument(doc.value, `rules file ${path}`) : doc;
}

/** The rules file's rules (what sync and the stream's startup sync send to X). */
export function loadRulesFile(path: string): Result<DesiredRule[], RulesError> {
  const doc = loadRulesDocument(path);
  return doc.ok ? ok(doc.value.rules) : doc;
}

/** Diff by (value, tag): same value and tag → keep; anything live and not desired → remove; desired and not live → add. */
export function diffRules(desired: readonly DesiredRule[], live: readonly LiveRule[]): RulesDiff {
  const key = (value: string, tag: string | undefined): string => `${value}\u0000${tag ?? ''}`;
  const desiredKeys = new Set(desired.map((r) => key(r.value, r.tag)));
  const liveKeys = new Set(live.map((r) => key(r.value, r.tag)));
  return {
    add: desired.filter((r) => !liveKeys.has(key(r.value, r.tag))),
    remove: live.filter((r) => !desiredKeys.has(key(r.value, r.tag))),
    keep: live.filter((r) => desiredKeys.has(key(r.value, r.tag))),
  };
}

export async function listRules(client: TwitterApi): Promise<LiveRule[]> {
  const res = await client.v2.streamRules();
  return (res.data ?? []).map((r) => (r.tag === undefined ? { id: r.id, value: r.value } : { id: r.id, value: r.value, tag: r.tag }));
}

interface PostOutcome {
  readonly created: LiveRule[];
  readonly deleted: number;
  /** X's per-rule errors (in a 2xx, or in a 4xx that refused the request). */
  readonly errors: readonly RuleErrorItem[];
  /** Set when X refused the request as a whole (a 4xx): nothing changed. */
  readonly httpStatus?: number;
}

/**
 * POSTs to the rules endpoint and returns X's per-rule errors, whether in a 2xx body or in a 4xx;
 * a 4xx without any becomes a RulesError. Only value and tag are ever sent for a rule.
 */
async function postRules(
  client: TwitterApi,
  body: { add: readonly DesiredRule[] } | { delete: { ids: string[] } },
  dryRun: boolean,
): Promise<Result<PostOutcome, RulesError>> {
  const payload = 'add' in body ? { add: body.add.map((r) => ({ value: r.value, tag: r.tag })) } : body;
  try {
    const res = await client.v2.updateStreamRules(payload as never, { dry_run: dryRun });
    const errors = (res as unknown as { errors?: RuleErrorItem[] }).errors ?? [];
    const summary = (res.meta?.summary ?? {}) as { deleted?: number };
    return ok({
      created: (res.data ?? []).map((r) => ({ id: r.id, value: r.value, ...(r.tag !== undefined ? { tag: r.tag } : {}) })),
      deleted: summary.deleted ?? 0,
      errors,
    });
  } catch (e) {
    if (e instanceof ApiResponseError) {
      const data = (e.data ?? {}) as { errors?: RuleErrorItem[]; title?: string; detail?: string };
      if (Array.isArray(data.errors) && data.errors.length > 0) return ok({ created: [], deleted: 0, errors: data.errors, httpStatus: e.code });
      return err(new RulesError(`X refused rules (HTTP ${e.code}): ${`${data.title ?? ''} ${data.detail ?? ''}`.trim() || 'no reason given'}`, { cause: e }));
    }
    throw e;
  }
}

export interface AddOutcome {
  readonly created: readonly LiveRule[];
  /** Rules whose value X already has: kept as they are, not refusals. */
  readonly alreadyLive: readonly AlreadyLive[];
}

/** Adds (or, with dryRun, validates) rules and judges X's errors: a DuplicateRule for a live value is "already live", the rest are refusals. */
async function postAdd(client: TwitterApi, rules: readonly DesiredRule[], dryRun: boolean): Promise<Result<AddOutcome, RulesError>> {
  const posted = await postRules(client, { add: rules }, dryRun);
  if (!posted.ok) return posted;
  const { created, errors, httpStatus } = posted.value;
  if (errors.length === 0) return ok({ created, alreadyLive: [] });
  const live = errors.some(isDuplicateRule) ? await listRules(client) : [];
  const verdict = judgeAddErrors(errors, live, rules);
  // A 4xx changed nothing: unless every rule asked for is already live, the others were not added either.
  const refusedWhole = httpStatus !== undefined && verdict.alreadyLive.length < rules.length;
  if (verdict.refused.length > 0 || refusedWhole) {
    const message = refusalMessage(verdict, { requested: rules.length, created: created.length, dryRun, ...(httpStatus !== undefined ? { httpStatus } : {}) });
    return err(new RulesError(message, { refused: verdict.refused, alreadyLive: verdict.alreadyLive }));
  }
  return ok({ created, alreadyLive: verdict.alreadyLive });
}

export interface ValidationOutcome {
  /** Rules whose value X already has (valid: they are live). */
  readonly alreadyLive: readonly AlreadyLive[];
}

/** Validates rules with X itself (dry_run: nothing changes). A value X already has is valid (it is live). */
export async function validateRules(client: TwitterApi, rules: readonly DesiredRule[]): Promise<Result<ValidationOutcome, RulesError>> {
  if (rules.length === 0) return ok({ alreadyLive: [] });
  const r = await postAdd(client, rules, true);
  return r.ok ? ok({ alreadyLive: r.value.alreadyLive }) : r;
}

export interface SyncResult {
  readonly diff: RulesDiff;
  readonly applied: boolean;
  /** Additions X reported as already live (another writer added them meanwhile): kept, not refusals. */
  readonly alreadyLive: readonly AlreadyLive[];
}

/**
 * Makes X's rules equal the desired set by diff: validate the additions with dry_run first (nothing is
 * changed if any is refused), delete the stale rules by id, add the missing ones, keep the rest.
 * Refuses an empty desired set: crowdpulse never deletes every rule.
 */
export async function syncRules(
  client: TwitterApi,
  desired: readonly DesiredRule[],
  options: { dryRun?: boolean } = {},
): Promise<Result<SyncResult, RulesError>> {
  if (desired.length === 0) return err(new RulesError('refusing to sync an empty rule set: that would delete every rule on the stream'));
  const live = await listRules(client);
  const diff = diffRules(desired, live);
  // A re-tagged value (same value, new tag) is live until its stale rule is deleted: it is valid, and not sent for validation.
  const validated = await validateRules(
    client,
    diff.add.filter((r) => !diff.remove.some((x) => x.value === r.value)),
  );
  if (!validated.ok) return validated;
  if (options.dryRun || (diff.add.length === 0 && diff.remove.length === 0)) return ok({ diff, applied: false, alreadyLive: validated.value.alreadyLive });
  // Stale rules go first so that a re-tagged value (same value, new tag) does not collide as a duplicate.
  if (diff.remove.length > 0) {
    const removed = await postDelete(
      client,
      diff.remove.map((r) => r.id),
    );
    if (!removed.ok) return removed;
  }
  let alreadyLive: readonly AlreadyLive[] = [];
  if (diff.add.length > 0) {
    const added = await postAdd(client, diff.add, false);
    if (!added.ok) return added;
    alreadyLive = added.value.alreadyLive;
  }
  return ok({ diff, applied: true, alreadyLive });
}

/**
 * Adds rules at run time, validated with dry_run first. A rule whose value X already has is kept as
 * it is and reported in `alreadyLive` (not a refusal); a refusal names only the rules X refused.
 */
export async function addRules(client: TwitterApi, rules: readonly DesiredRule[]): Promise<Result<AddOutcome, RulesError>> {
  const validated = await validateRules(client, rules);
  if (!validated.ok) return validated;
  const live = new Set(validated.value.alreadyLive.map((a) => a.value));
  const missing = rules.filter((r) => !live.has(r.value));
  if (missing.length === 0) return ok({ created: [], alreadyLive: validated.value.alreadyLive });
  const added = await postAdd(client, missing, false);
  if (!added.ok) return added;
  return ok({ created: added.value.created, alreadyLive: [...validated.value.alreadyLive, ...added.value.alreadyLive] });
}

async function postDelete(client: TwitterApi, ids: readonly string[]): Promise<Result<number, RulesError>> {
  const removed = await postRules(client, { delete: { ids: [...ids] } }, false);
  if (!removed.ok) return removed;
  const { errors, httpStatus, deleted } = removed.value;
  if (errors.length > 0)
    return err(
      new RulesError(`X refused the delete${httpStatus !== undefined ? ` (HTTP ${httpStatus})` : ''}: ${describeRuleErrors(errors)}`, { refused: errors }),
    );
  return ok(deleted);
}

/** Deletes rules by id; refuses to delete every rule. */
export async function deleteRules(client: TwitterApi, ids: readonly string[]): Promise<Result<number, RulesError>> {
  const live = await listRules(client);
  if (ids.length > 0 && live.length > 0 && live.every((r) => ids.includes(r.id))) return err(new RulesError('refusing to delete every rule on the stream'));
  return postDelete(client, ids);
}
