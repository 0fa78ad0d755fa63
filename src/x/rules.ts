import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { err, ok, type Result } from '../contract/result.js';
import { CrowdpulseError } from '../errors.js';

/** A rule as crowdpulse declares it: the tag becomes the topic of every post the rule matches. */
export const desiredRuleSchema = z.object({
  value: z.string().trim().min(1, 'value must not be empty').max(1024),
  tag: z.string().trim().min(1, 'tag must not be empty (it is the topic)').max(128),
});
export type DesiredRule = z.infer<typeof desiredRuleSchema>;

export const rulesFileSchema = z.object({ rules: z.array(desiredRuleSchema) }).strict();

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

/** A rule problem, with X's words when X said it. */
export class RulesError extends CrowdpulseError<'CP_X_RULES'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_X_RULES', message, options);
  }
}

/** Validates a rules document (parsed YAML/JSON): shape, no duplicate values. */
export function validateRulesDocument(doc: unknown, where: string): Result<DesiredRule[], RulesError> {
  const parsed = rulesFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(new RulesError(`${where}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'} (expected "rules: [{value, tag}, ...]")`));
  }
  const seen = new Map<string, number>();
  for (const [i, r] of parsed.data.rules.entries()) {
    const prev = seen.get(r.value);
    if (prev !== undefined)
      return err(new RulesError(`${where}: rules.${i} repeats the value of rules.${prev} ("${r.value}"); X refuses duplicate rule values`));
    seen.set(r.value, i);
  }
  return ok(parsed.data.rules);
}

export function loadRulesFile(path: string): Result<DesiredRule[], RulesError> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err(new RulesError(`rules file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return err(new RulesError(`rules file ${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`));
  }
  return validateRulesDocument(doc, `rules file ${path}`);
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

interface RuleErrorItem {
  value?: string;
  id?: string;
  title?: string;
  details?: string[];
  detail?: string;
  message?: string;
}

function describeRuleErrors(errors: readonly RuleErrorItem[] | undefined): string {
  return (errors ?? [])
    .map(
      (e) =>
        `${e.title ?? 'error'}${e.value ? ` "${e.value}"` : ''}${e.details ? `: ${e.details.join('; ')}` : e.detail ? `: ${e.detail}` : e.message ? `: ${e.message}` : ''}`,
    )
    .join('; ');
}

/** POSTs to the rules endpoint; rule errors (in a 2xx body or in a 4xx) come back as a RulesError. */
async function postRules(
  client: TwitterApi,
  body: { add: DesiredRule[] } | { delete: { ids: string[] } },
  dryRun: boolean,
  ignore: (e: RuleErrorItem) => boolean = () => false,
): Promise<Result<{ created: LiveRule[]; deleted: number }, RulesError>> {
  try {
    const res = await client.v2.updateStreamRules(body as never, { dry_run: dryRun });
    const errors = (res as unknown as { errors?: RuleErrorItem[] }).errors?.filter((e) => !ignore(e));
    if (errors && errors.length > 0) return err(new RulesError(`X refused rules: ${describeRuleErrors(errors)}`));
    const summary = res.meta.summary as { deleted?: number };
    return ok({
      created: (res.data ?? []).map((r) => ({ id: r.id, value: r.value, ...(r.tag !== undefined ? { tag: r.tag } : {}) })),
      deleted: summary.deleted ?? 0,
    });
  } catch (e) {
    if (e instanceof ApiResponseError) {
      const data = e.data as { errors?: RuleErrorItem[]; title?: string; detail?: string };
      return err(new RulesError(`X refused rules (HTTP ${e.code}): ${describeRuleErrors(data.errors) || `${data.title ?? ''} ${data.detail ?? ''}`.trim()}`));
    }
    throw e;
  }
}

/** Validates rules with X itself (dry_run: nothing changes). */
export async function validateRules(client: TwitterApi, rules: readonly DesiredRule[]): Promise<Result<void, RulesError>> {
  if (rules.length === 0) return ok(undefined);
  // A value X already has is valid (it is live): only syntax and limit errors count here.
  const r = await postRules(client, { add: [...rules] }, true, (e) => e.title === 'DuplicateRule');
  return r.ok ? ok(undefined) : r;
}

export interface SyncResult {
  readonly diff: RulesDiff;
  readonly applied: boolean;
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
  const validated = await validateRules(
    client,
    diff.add.filter((r) => !diff.remove.some((x) => x.value === r.value)),
  );
  if (!validated.ok) return validated;
  if (options.dryRun || (diff.add.length === 0 && diff.remove.length === 0)) return ok({ diff, applied: false });
  // Stale rules go first so that a re-tagged value (same value, new tag) does not collide as a duplicate.
  if (diff.remove.length > 0) {
    const removed = await postRules(client, { delete: { ids: diff.remove.map((r) => r.id) } }, false);
    if (!removed.ok) return removed;
  }
  if (diff.add.length > 0) {
    const added = await postRules(client, { add: [...diff.add] }, false);
    if (!added.ok) return added;
  }
  return ok({ diff, applied: true });
}

/** Adds rules at run time (validated with dry_run first). */
export async function addRules(client: TwitterApi, rules: readonly DesiredRule[]): Promise<Result<LiveRule[], RulesError>> {
  const validated = await validateRules(client, rules);
  if (!validated.ok) return validated;
  const added = await postRules(client, { add: [...rules] }, false);
  return added.ok ? ok(added.value.created) : added;
}

/** Deletes rules by id; refuses to delete every rule. */
export async function deleteRules(client: TwitterApi, ids: readonly string[]): Promise<Result<number, RulesError>> {
  const live = await listRules(client);
  if (ids.length > 0 && live.length > 0 && live.every((r) => ids.includes(r.id))) return err(new RulesError('refusing to delete every rule on the stream'));
  const removed = await postRules(client, { delete: { ids: [...ids] } }, false);
  return removed.ok ? ok(removed.value.deleted) : removed;
}
