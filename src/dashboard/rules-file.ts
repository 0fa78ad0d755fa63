import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { RulesError } from '../x/rules.js';

/** A filtered-stream rule as the dashboard shows it. */
export interface RuleView {
  readonly value: string;
  readonly tag: string | null;
}

/**
 * Reads a rules file (YAML or JSON): a list of {value, tag}, or {rules: [...]}. Entries without a
 * string `value` are reported in `invalid`, not dropped silently.
 */
export async function readRulesFile(path: string): Promise<{ rules: RuleView[]; invalid: number }> {
  const doc: unknown = parse(await readFile(path, 'utf8'));
  const list: unknown = Array.isArray(doc) ? doc : (doc as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) throw new RulesError(`${path}: expected a list of {value, tag} rules (or {rules: [...]})`);
  const rules: RuleView[] = [];
  let invalid = 0;
  for (const entry of list as unknown[]) {
    const e = entry as { value?: unknown; tag?: unknown } | null;
    if (e && typeof e.value === 'string' && e.value.trim() !== '') rules.push({ value: e.value, tag: typeof e.tag === 'string' ? e.tag : null });
    else invalid += 1;
  }
  return { rules, invalid };
}
