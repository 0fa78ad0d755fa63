/**
 * What X's per-rule errors on an add mean (issue #14.2). X reports a value it already has as
 * DuplicateRule, in a 200 and also among the errors of a 400 that refuses another rule of the same
 * request. A DuplicateRule for a value that is live is no refusal: that rule is already live (kept).
 * Only the other errors are refusals, and a refusal message names only those.
 */

/** One item of X's `errors` array on POST /2/tweets/search/stream/rules. */
export interface RuleErrorItem {
  readonly value?: string;
  readonly id?: string;
  readonly title?: string;
  readonly details?: readonly string[];
  readonly detail?: string;
  readonly message?: string;
}

/** A rule as X holds it (the same shape as rules.ts LiveRule, restated to keep this module standalone). */
export interface LiveRuleRef {
  readonly id: string;
  readonly value: string;
  readonly tag?: string;
}

/** A requested rule whose value X already has: kept, not added again. */
export interface AlreadyLive {
  readonly value: string;
  /** The tag asked for (undefined when the request did not name the value). */
  readonly requestedTag?: string;
  /** The rule X has. */
  readonly live: LiveRuleRef;
}

export interface AddErrorVerdict {
  /** X's errors that are refusals (invalid syntax, a rule cap, a duplicate inside the request, ...). */
  readonly refused: readonly RuleErrorItem[];
  readonly alreadyLive: readonly AlreadyLive[];
}

export const isDuplicateRule = (e: RuleErrorItem): boolean => e.title === 'DuplicateRule';

/**
 * Splits X's errors on an add into refusals and already-live rules: a DuplicateRule is "already
 * live" when its value is live (by value, whatever the tag); any other error, or a DuplicateRule
 * for a value that is not live (the request repeated it), is a refusal.
 */
export function judgeAddErrors(
  errors: readonly RuleErrorItem[],
  live: readonly LiveRuleRef[],
  requested: readonly { readonly value: string; readonly tag?: string }[],
): AddErrorVerdict {
  const liveByValue = new Map(live.map((r) => [r.value, r]));
  const refused: RuleErrorItem[] = [];
  const alreadyLive: AlreadyLive[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const liveRule = isDuplicateRule(e) && e.value !== undefined ? liveByValue.get(e.value) : undefined;
    if (!liveRule) {
      refused.push(e);
      continue;
    }
    if (seen.has(liveRule.value)) continue;
    seen.add(liveRule.value);
    const tag = requested.find((r) => r.value === liveRule.value)?.tag;
    alreadyLive.push(tag === undefined ? { value: liveRule.value, live: liveRule } : { value: liveRule.value, requestedTag: tag, live: liveRule });
  }
  return { refused, alreadyLive };
}

/** X's words for one error: `UnprocessableEntity "foo:bar": Reference to invalid operator 'foo'`. */
export function describeRuleError(e: RuleErrorItem): string {
  const why = e.details && e.details.length > 0 ? `: ${e.details.join('; ')}` : e.detail ? `: ${e.detail}` : e.message ? `: ${e.message}` : '';
  return `${e.title ?? 'error'}${e.value !== undefined ? ` "${e.value}"` : ''}${why}`;
}

export const describeRuleErrors = (errors: readonly RuleErrorItem[]): string => errors.map(describeRuleError).join('; ');

/** `"bitcoin lang:en" (tag crypto)`, or `(live with tag crypto, asked for bitcoin)` when the tags differ. */
export function describeAlreadyLive(a: AlreadyLive): string {
  const liveTag = a.live.tag ?? '-';
  const tag = a.requestedTag === undefined || a.requestedTag === a.live.tag ? `tag ${liveTag}` : `live with tag ${liveTag}, asked for ${a.requestedTag}`;
  return `"${a.value}" (${tag}, id ${a.live.id})`;
}

export interface RefusalContext {
  /** Rules in the request. */
  readonly requested: number;
  /** Rules X created anyway (a 200 that refused some of the request). */
  readonly created: number;
  /** The HTTP status when X refused the request as a whole (4xx: nothing was added). */
  readonly httpStatus?: number;
  readonly dryRun: boolean;
}

/**
 * The one line for a refused add: which rules X refused and why (only those), how many were added
 * anyway, and which were already live (not refused, kept).
 */
export function refusalMessage(verdict: AddErrorVerdict, ctx: RefusalContext): string {
  const refusedRules = verdict.refused.filter((e) => e.value !== undefined).length;
  const counted = refusedRules > 0 ? `${refusedRules} of ${ctx.requested} rule${ctx.requested === 1 ? '' : 's'}` : 'the rules';
  const outcome = ctx.dryRun ? 'dry run, nothing changed' : ctx.httpStatus !== undefined ? `HTTP ${ctx.httpStatus}, nothing was added` : `${ctx.created} added`;
  const live = verdict.alreadyLive.length > 0 ? `; already live (not refused, kept): ${verdict.alreadyLive.map(describeAlreadyLive).join(', ')}` : '';
  const why = verdict.refused.length > 0 ? describeRuleErrors(verdict.refused) : 'no reason given for the rules that are not live';
  return `X refused ${counted} (${outcome}): ${why}${live}`;
}
