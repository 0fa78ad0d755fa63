/**
 * The terms that put a post into a topic, read from the rules (topic-fair scoring, src/model/topic-mask.ts):
 * every keyword, "phrase", #hashtag and @mention a rule matches on, not those under a negation and
 * not operators (lang:, is:, has:). A $cashtag in a rule is a keyword to the emulator's rule
 * language and gives its word. Terms are lower-case word lists, as the mask compares them.
 */
import { parseRule, wordTokens, type RuleNode } from './rule-language.js';
import type { DesiredRule } from './rules.js';

function termsOf(node: RuleNode, out: string[][]): void {
  switch (node.kind) {
    case 'keyword':
    case 'phrase':
      out.push([...node.tokens]);
      return;
    case 'hashtag':
      out.push(wordTokens(node.tag));
      return;
    case 'mention':
      out.push(wordTokens(node.user));
      return;
    case 'and':
    case 'or':
      for (const child of node.children) termsOf(child, out);
      return;
    case 'not':
    case 'lang':
    case 'is_retweet':
    case 'has_links':
      return;
  }
}

/** Terms of one rule value; a rule the language refuses gives none (`rules validate` reports it). */
export function termsOfRule(value: string): string[][] {
  const parsed = parseRule(value, { maxLength: 2048 });
  if (!parsed.ok) return [];
  const out: string[][] = [];
  termsOf(parsed.value, out);
  return out.filter((t) => t.length > 0);
}

/** Topic (a rule's tag) → the terms of every rule with that tag. */
export function topicTermsOfRules(rules: readonly DesiredRule[]): Map<string, string[][]> {
  const byTopic = new Map<string, string[][]>();
  for (const rule of rules) {
    const list = byTopic.get(rule.tag) ?? [];
    list.push(...termsOfRule(rule.value));
    byTopic.set(rule.tag, list);
  }
  return byTopic;
}
