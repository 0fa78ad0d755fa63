/**
 * `crowdpulse rules validate --offline`: every problem of a rules file found without the API (issue
 * #14.5): its shape, each value's syntax (the rule-language subset of src/x/rule-language.ts),
 * rule length and rule count against the plan's limits (x.maxRuleLength, x.maxRules), duplicate
 * values, empty tags and tags spelled two ways, and the per-topic budgets (a budget names a tag of
 * the file; the budgets sum to at most x.monthlyCap when there is a cap).
 */
import { err, ok, type Result } from '../contract/result.js';
import { parseRule } from './rule-language.js';
import { parseRulesDocument, readRulesYaml, RulesError, type RulesDocument } from './rules.js';

export interface OfflineLimits {
  /** x.maxRules */
  readonly maxRules: number;
  /** x.maxRuleLength (characters) */
  readonly maxRuleLength: number;
  /** x.monthlyCap; 0 = no cap, budgets unbounded. */
  readonly monthlyCap: number;
}

export type ProblemKind = 'shape' | 'syntax' | 'length' | 'count' | 'duplicate' | 'tag' | 'budget';

export interface RulesProblem {
  readonly kind: ProblemKind;
  /** Where in the file: `rules.3`, `budgets.brand-a`, `(root)`. */
  readonly where: string;
  readonly message: string;
}

const TAG_MAX = 128;
const TOP_LEVEL = new Set(['rules', 'budgets']);
const RULE_KEYS = new Set(['value', 'tag']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const quote = (s: string, max = 60): string => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** Every problem of a parsed rules document (an empty list: the file is valid offline). */
export function rulesProblems(doc: unknown, limits: OfflineLimits): RulesProblem[] {
  const problems: RulesProblem[] = [];
  const add = (kind: ProblemKind, where: string, message: string): void => {
    problems.push({ kind, where, message });
  };
  if (!isRecord(doc)) {
    add('shape', '(root)', 'expected a mapping: "rules: [{value, tag}, ...]" and optionally "budgets: {topic: posts}"');
    return problems;
  }
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.has(key)) add('shape', key, 'unknown key (a rules file holds "rules" and optionally "budgets")');
  const rules = doc.rules;
  if (!Array.isArray(rules)) {
    add('shape', 'rules', rules === undefined ? 'missing: expected a list of {value, tag}' : 'expected a list of {value, tag}');
    return problems;
  }
  if (rules.length > limits.maxRules) add('count', 'rules', `${rules.length} rules, over the limit of ${limits.maxRules} (x.maxRules)`);

  const tags = new Map<string, number[]>();
  const values = new Map<string, number>();
  for (const [i, item] of rules.entries()) {
    const where = `rules.${i}`;
    if (!isRecord(item)) {
      add('shape', where, 'expected {value, tag}');
      continue;
    }
    for (const key of Object.keys(item)) if (!RULE_KEYS.has(key)) add('shape', `${where}.${key}`, 'unknown key (a rule has "value" and "tag")');
    const tag = typeof item.tag === 'string' ? item.tag.trim() : undefined;
    if (item.tag === undefined || item.tag === null) add('tag', `${where}.tag`, 'missing: every rule needs a tag (it is the topic)');
    else if (tag === undefined) add('tag', `${where}.tag`, `expected a string, got ${typeof item.tag}`);
    else if (tag === '') add('tag', `${where}.tag`, 'empty: every rule needs a tag (it is the topic)');
    else if (tag.length > TAG_MAX) add('tag', `${where}.tag`, `${tag.length} characters, over ${TAG_MAX}`);
    else tags.set(tag, [...(tags.get(tag) ?? []), i]);

    if (typeof item.value !== 'string') {
      add(
        'shape',
        `${where}.value`,
        item.value === undefined || item.value === null ? 'missing: every rule needs a value' : `expected a string, got ${typeof item.value}`,
      );
      continue;
    }
    const value = item.value.trim();
    const label = `${where}${tag ? ` (tag ${tag})` : ''} ${quote(value)}`;
    if (value === '') {
      add('shape', `${where}.value`, 'empty: a rule needs a value');
      continue;
    }
    if (value.length > limits.maxRuleLength)
      add('length', where, `${label}: ${value.length} characters, over the limit of ${limits.maxRuleLength} (x.maxRuleLength)`);
    const parsed = parseRule(value, { maxLength: Number.POSITIVE_INFINITY });
    if (!parsed.ok) add('syntax', where, `${label}: ${parsed.error}`);
    const prev = values.get(value);
    if (prev !== undefined) add('duplicate', where, `${label} repeats the value of rules.${prev}; X refuses duplicate rule values`);
    else values.set(value, i);
  }

  // A topic is its tag, compared exactly: "Brand-A" and "brand-a" are two topics, which is almost always a typo.
  const spellings = new Map<string, string[]>();
  for (const tag of tags.keys()) spellings.set(tag.toLowerCase(), [...(spellings.get(tag.toLowerCase()) ?? []), tag]);
  for (const group of spellings.values())
    if (group.length > 1)
      add(
        'tag',
        'rules',
        `tags ${group.map((t) => `${quote(t)} (rules.${tags.get(t)!.join(', rules.')})`).join(' and ')} differ only in case: they are different topics; spell them one way`,
      );

  checkBudgets(doc.budgets, tags, limits, add);
  return problems;
}

function checkBudgets(
  budgets: unknown,
  tags: ReadonlyMap<string, readonly number[]>,
  limits: OfflineLimits,
  add: (kind: ProblemKind, where: string, message: string) => void,
): void {
  if (budgets === undefined) return;
  if (!isRecord(budgets)) {
    add('budget', 'budgets', 'expected a mapping of topic (tag) to posts per billing period, e.g. {brand-a: 20000}');
    return;
  }
  let sum = 0;
  for (const [topic, posts] of Object.entries(budgets)) {
    const where = `budgets.${topic}`;
    if (typeof posts !== 'number' || !Number.isInteger(posts) || posts < 0)
      add('budget', where, `${JSON.stringify(posts)} is not a whole, non-negative number of posts`);
    else sum += posts;
    if (!tags.has(topic)) {
      const near = [...tags.keys()].find((t) => t.toLowerCase() === topic.trim().toLowerCase());
      add(
        'budget',
        where,
        `no rule has the tag ${quote(topic)}${near ? ` (did you mean ${quote(near)}?)` : ''}; a budget is per topic, and a topic is a rule's tag`,
      );
    }
  }
  if (limits.monthlyCap > 0 && sum > limits.monthlyCap)
    add('budget', 'budgets', `the budgets sum to ${sum} posts, over x.monthlyCap (${limits.monthlyCap}): together they could never all be spent`);
}

export interface OfflineValidation {
  readonly document: RulesDocument;
  /** Problems passed on to X (syntax, when X is asked next): printed, not fatal. */
  readonly notes: readonly string[];
}

export interface OfflineOptions {
  /**
   * Whether syntax verdicts are final (offline) or X's to give (the online path, which asks X with
   * dry_run next): the offline parser knows only a subset of X's rule language, so a rule it refuses
   * may be one X accepts (is:reply, has:media, from:, ...).
   */
  readonly syntax: 'final' | 'defer-to-x';
}

const SUBSET_HINT = "(the offline check knows a subset of X's rule language; `crowdpulse rules validate` without --offline asks X)";

/** The one-line error for a list of problems: `rules file f: 2 problems: (1) rules.3 …; (2) budgets.x …`. */
export function problemsMessage(where: string, problems: readonly RulesProblem[]): string {
  const list = problems.map((p, i) => `(${i + 1}) ${p.message.startsWith(p.where) ? p.message : `${p.where}: ${p.message}`}`).join('; ');
  const hint = problems.some((p) => p.kind === 'syntax') ? ` ${SUBSET_HINT}` : '';
  return `${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${list}${hint}`;
}

/** Checks a parsed rules document offline; the error (CP_X_RULES) lists every problem. */
export function checkRulesOffline(
  doc: unknown,
  where: string,
  limits: OfflineLimits,
  options: OfflineOptions = { syntax: 'final' },
): Result<OfflineValidation, RulesError> {
  const all = rulesProblems(doc, limits);
  const deferred = options.syntax === 'defer-to-x' ? all.filter((p) => p.kind === 'syntax') : [];
  const problems = all.filter((p) => !deferred.includes(p));
  if (problems.length > 0) return err(new RulesError(problemsMessage(where, problems)));
  const document = parseRulesDocument(doc, where);
  if (!document.ok) return document;
  return ok({
    document: document.value,
    notes: deferred.map((p) => `${p.message.startsWith(p.where) ? p.message : `${p.where}: ${p.message}`} (outside the offline subset; X decides)`),
  });
}

/** Reads a rules file and checks it offline. */
export function validateRulesFileOffline(
  path: string,
  limits: OfflineLimits,
  options: OfflineOptions = { syntax: 'final' },
): Result<OfflineValidation, RulesError> {
  const doc = readRulesYaml(path);
  return doc.ok ? checkRulesOffline(doc.value, `rules file ${path}`, limits, options) : doc;
}
