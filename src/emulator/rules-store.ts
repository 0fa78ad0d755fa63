import { matches, parseRule, type MatchablePost, type RuleNode } from '../x/rule-language.js';
import { duplicateRuleError, invalidRuleError, ruleCapError, ruleNotFoundError } from './x-errors.js';

export interface StoredRule {
  readonly id: string;
  readonly value: string;
  readonly tag?: string;
  readonly node: RuleNode;
}

export interface RulesResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface RulesBody {
  add?: unknown;
  delete?: unknown;
}

/**
 * The stream's rule set, with X's POST /2/tweets/search/stream/rules semantics as the emulator models
 * them: an add request is all-or-nothing (any invalid rule → 400 with per-rule errors, nothing created);
 * a duplicate value is reported as DuplicateRule (200, others still created); deletes by id report
 * unknown ids; `dry_run` validates without changing anything.
 */
export class RulesStore {
  private readonly rules = new Map<string, StoredRule>();
  private nextId = 1_900_000_000_000_000_000n;
  /** Bumped on every change, so that the server can tell when a fruitless scan is worth repeating. */
  version = 0;

  get size(): number {
    return this.rules.size;
  }

  constructor(private readonly limits: { maxRules: number; maxLength: number }) {}

  list(ids?: readonly string[]): Record<string, unknown> {
    const sent = new Date().toISOString();
    const data = [...this.rules.values()].filter((r) => !ids || ids.includes(r.id)).map(publicRule);
    return data.length === 0 ? { meta: { sent, result_count: 0 } } : { data, meta: { sent, result_count: data.length } };
  }

  /** Rules (id, tag) that match a post. */
  match(post: MatchablePost): { id: string; tag?: string }[] {
    const out: { id: string; tag?: string }[] = [];
    for (const r of this.rules.values()) if (matches(r.node, post)) out.push(r.tag === undefined ? { id: r.id } : { id: r.id, tag: r.tag });
    return out;
  }

  apply(body: unknown, dryRun: boolean): RulesResponse {
    const sent = new Date().toISOString();
    if (typeof body !== 'object' || body === null) return invalid('request body must be a JSON object');
    const { add, delete: del } = body as RulesBody;
    if (add !== undefined && del !== undefined) return invalid('a request either adds or deletes rules, not both');
    if (add !== undefined) return this.add(add, dryRun, sent);
    if (del !== undefined) return this.delete(del, dryRun, sent);
    return invalid('one of "add" or "delete" is required');
  }

  private add(add: unknown, dryRun: boolean, sent: string): RulesResponse {
    if (!Array.isArray(add) || add.length === 0) return invalid('"add" must be a non-empty array of {value, tag?}');
    const errors: Record<string, unknown>[] = [];
    const accepted: { value: string; tag?: string; node: RuleNode }[] = [];
    let invalidCount = 0;
    const seen = new Set<string>();
    for (const item of add as unknown[]) {
      const value = (item as { value?: unknown })?.value;
      const tag = (item as { tag?: unknown })?.tag;
      if (typeof value !== 'string' || (tag !== undefined && typeof tag !== 'string'))
        return invalid('each rule needs a string "value" and an optional string "tag"');
      const parsed = parseRule(value, { maxLength: this.limits.maxLength });
      if (!parsed.ok) {
        invalidCount++;
        errors.push(invalidRuleError(value, parsed.error));
        continue;
      }
      const existing = [...this.rules.values()].find((r) => r.value === value);
      if (existing || seen.has(value)) {
        errors.push(duplicateRuleError(value, existing?.id ?? ''));
        continue;
      }
      seen.add(value);
      accepted.push(tag === undefined ? { value, node: parsed.value } : { value, tag, node: parsed.value });
    }
    if (invalidCount > 0) {
      return {
        status: 400,
        body: { meta: { sent, summary: { created: 0, not_created: add.length, valid: add.length - invalidCount, invalid: invalidCount } }, errors },
      };
    }
    if (this.rules.size + accepted.length > this.limits.maxRules) {
      return {
        status: 403,
        body: {
          meta: { sent, summary: { created: 0, not_created: add.length, valid: accepted.length, invalid: 0 } },
          errors: [ruleCapError(this.limits.maxRules)],
          title: 'RulesCapExceeded',
          detail: `Rule creation would exceed the maximum of ${this.limits.maxRules} rules`,
          type: 'https://api.twitter.com/2/problems/rule-cap',
        },
      };
    }
    const created = accepted.map((r) => {
      const rule: StoredRule =
        r.tag === undefined
          ? { id: String(this.nextId++), value: r.value, node: r.node }
          : { id: String(this.nextId++), value: r.value, tag: r.tag, node: r.node };
      if (!dryRun) {
        this.rules.set(rule.id, rule);
        this.version++;
      }
      return publicRule(rule);
    });
    const body: Record<string, unknown> = {
      meta: { sent, summary: { created: created.length, not_created: add.length - created.length, valid: created.length, invalid: 0 } },
    };
    if (created.length > 0) body.data = created;
    if (errors.length > 0) body.errors = errors;
    return { status: created.length > 0 && !dryRun ? 201 : 200, body };
  }

  private delete(del: unknown, dryRun: boolean, sent: string): RulesResponse {
    const ids = (del as { ids?: unknown })?.ids;
    const values = (del as { values?: unknown })?.values;
    const byIds = Array.isArray(ids) && ids.every((x) => typeof x === 'string');
    const byValues = Array.isArray(values) && values.every((x) => typeof x === 'string');
    if (!byIds && !byValues) return invalid('"delete" must be {ids: string[]} or {values: string[]}');
    const targets: string[] = byIds ? ids : (values as string[]);
    const errors: Record<string, unknown>[] = [];
    let deleted = 0;
    for (const t of targets) {
      const rule = byIds ? this.rules.get(t) : [...this.rules.values()].find((r) => r.value === t);
      if (!rule) {
        errors.push(ruleNotFoundError(t));
        continue;
      }
      if (!dryRun) {
        this.rules.delete(rule.id);
        this.version++;
      }
      deleted++;
    }
    const body: Record<string, unknown> = { meta: { sent, summary: { deleted, not_deleted: targets.length - deleted } } };
    if (errors.length > 0) body.errors = errors;
    return { status: 200, body };
  }
}

function publicRule(r: StoredRule): { id: string; value: string; tag?: string } {
  return r.tag === undefined ? { id: r.id, value: r.value } : { id: r.id, value: r.value, tag: r.tag };
}

function invalid(message: string): RulesResponse {
  return {
    status: 400,
    body: {
      errors: [{ parameters: {}, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    },
  };
}
