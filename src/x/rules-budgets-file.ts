/** `rules plan --write`: puts a `budgets:` map into the rules file, keeping its rules, comments and order as they are. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isMap, parseDocument } from 'yaml';
import { err, ok, type Result } from '../contract/result.js';
import { parseRulesDocument, RulesError, type RulesDocument } from './rules.js';

/** The file's text with its `budgets:` replaced by (or, when absent, followed by) `budgets`. */
export function withBudgets(text: string, budgets: ReadonlyMap<string, number>, where: string): Result<string, RulesError> {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return err(new RulesError(`${where} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`));
  if (!isMap(doc.contents)) return err(new RulesError(`${where}: expected a mapping with "rules:" at the top`));
  doc.set('budgets', doc.createNode(Object.fromEntries(budgets)));
  const out = doc.toString();
  // What is written must still be a valid rules file, with the same rules.
  const check = parseRulesDocument(parseDocument(out).toJS(), where);
  if (!check.ok) return check;
  return ok(out);
}

/** Writes `budgets` into the rules file at `path` (a temporary file, then a rename); returns the document as written. */
export function writeBudgets(path: string, budgets: ReadonlyMap<string, number>): Result<RulesDocument, RulesError> {
  const where = `rules file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err(new RulesError(`${where}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
  }
  const updated = withBudgets(text, budgets, where);
  if (!updated.ok) return updated;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, updated.value, 'utf8');
    renameSync(tmp, path);
  } catch (e) {
    return err(new RulesError(`${where}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e }));
  }
  return parseRulesDocument(parseDocument(updated.value).toJS(), where);
}
