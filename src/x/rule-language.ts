/**
 * The subset of X's filtered-stream rule language crowdpulse understands (the emulator matches with it; `rules validate --offline` checks with it) (documented in the README):
 *   keyword          cat            token match, case-insensitive (punctuated keywords match as phrases)
 *   "quoted phrase"  "happy cat"    consecutive tokens
 *   #hashtag @mention
 *   lang:xx          is:retweet     has:links      (conjunction-required: cannot stand alone)
 *   a b              AND (juxtaposition; binds tighter than OR)
 *   a OR b           OR
 *   ( ... )          grouping
 *   -term, -( ... )  negation
 * Anything else of the form `name:value` is refused as X refuses an unknown operator.
 */
import { err, ok, type Result } from '../contract/result.js';

export type RuleNode =
  | { readonly kind: 'keyword'; readonly tokens: readonly string[] }
  | { readonly kind: 'phrase'; readonly tokens: readonly string[] }
  | { readonly kind: 'hashtag'; readonly tag: string }
  | { readonly kind: 'mention'; readonly user: string }
  | { readonly kind: 'lang'; readonly lang: string }
  | { readonly kind: 'is_retweet' }
  | { readonly kind: 'has_links' }
  | { readonly kind: 'not'; readonly child: RuleNode }
  | { readonly kind: 'and'; readonly children: readonly RuleNode[] }
  | { readonly kind: 'or'; readonly children: readonly RuleNode[] };

/** Operators X has that the emulator does not model: refused with a message saying so. */
const KNOWN_UNSUPPORTED = new Set([
  'from',
  'to',
  'url',
  'retweets_of',
  'context',
  'entity',
  'conversation_id',
  'bio',
  'bio_name',
  'bio_location',
  'place',
  'place_country',
  'point_radius',
  'bounding_box',
  'sample',
  'followers_count',
  'list',
]);

type Token =
  | { readonly t: 'lparen'; readonly neg: boolean }
  | { readonly t: 'rparen' }
  | { readonly t: 'or' }
  | { readonly t: 'term'; readonly node: RuleNode; readonly neg: boolean; readonly text: string };

/** Lower-cased word tokens of a text: letters, digits and underscore. */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
}

function termNode(word: string): Result<RuleNode, string> {
  if (word.startsWith('#') && word.length > 1) return ok({ kind: 'hashtag', tag: word.slice(1).toLowerCase() });
  if (word.startsWith('@') && word.length > 1) return ok({ kind: 'mention', user: word.slice(1).toLowerCase() });
  const op = /^([a-z_]+):(.*)$/i.exec(word);
  if (op) {
    const name = op[1]!.toLowerCase();
    const value = op[2]!;
    if (name === 'lang') return /^[a-z]{2,3}$/i.test(value) ? ok({ kind: 'lang', lang: value.toLowerCase() }) : err(`Invalid lang value '${value}'`);
    if (name === 'is') return value === 'retweet' ? ok({ kind: 'is_retweet' }) : err(`Reference to invalid field '${value}' for operator 'is'`);
    if (name === 'has') return value === 'links' ? ok({ kind: 'has_links' }) : err(`Reference to invalid field '${value}' for operator 'has'`);
    if (KNOWN_UNSUPPORTED.has(name))
      return err(`Reference to invalid operator '${name}'. Operator is not available in current product or product packaging (emulator subset).`);
    return err(`Reference to invalid operator '${name}'. Operator is not available in current product or product packaging.`);
  }
  const tokens = wordTokens(word);
  if (tokens.length === 0) return err(`There were errors processing your request: no searchable term in '${word}'`);
  return ok(tokens.length === 1 ? { kind: 'keyword', tokens } : { kind: 'phrase', tokens });
}

function tokenize(value: string): Result<Token[], string> {
  const out: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let neg = false;
    if (c === '-') {
      const next = value[i + 1];
      if (next === undefined || /\s/.test(next)) return err(`Ambiguous use of '-' at position ${i + 1}`);
      neg = true;
      i++;
    }
    const d = value[i]!;
    if (d === '(') {
      out.push({ t: 'lparen', neg });
      i++;
      continue;
    }
    if (d === ')') {
      if (neg) return err(`Ambiguous use of '-' at position ${i}`);
      out.push({ t: 'rparen' });
      i++;
      continue;
    }
    if (d === '"') {
      const end = value.indexOf('"', i + 1);
      if (end < 0) return err(`There were errors processing your request: unterminated quoted phrase at position ${i + 1}`);
      const phrase = value.slice(i + 1, end);
      const tokens = wordTokens(phrase);
      if (tokens.length === 0) return err(`There were errors processing your request: empty quoted phrase at position ${i + 1}`);
      out.push({ t: 'term', node: { kind: 'phrase', tokens }, neg, text: `"${phrase}"` });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < value.length && !/[\s()"]/.test(value[j]!)) j++;
    const word = value.slice(i, j);
    i = j;
    if (word === 'OR' && !neg) {
      out.push({ t: 'or' });
      continue;
    }
    const node = termNode(word);
    if (!node.ok) return node;
    out.push({ t: 'term', node: node.value, neg, text: word });
  }
  return ok(out);
}

/** A standalone clause (one that may match on its own): keywords, phrases, hashtags, mentions. */
function hasPositiveStandalone(node: RuleNode): boolean {
  switch (node.kind) {
    case 'keyword':
    case 'phrase':
    case 'hashtag':
    case 'mention':
      return true;
    case 'lang':
    case 'is_retweet':
    case 'has_links':
    case 'not':
      return false;
    case 'and':
      return node.children.some(hasPositiveStandalone);
    case 'or':
      return node.children.every(hasPositiveStandalone);
  }
}

export interface RuleLimits {
  /** X: 512 characters on Basic, 1024 on Pro. */
  readonly maxLength: number;
}

/** Parse and validate a rule value; the error is the text X would put in `details`. */
export function parseRule(value: string, limits: RuleLimits = { maxLength: 512 }): Result<RuleNode, string> {
  if (value.trim() === '') return err('Rules must contain a non-empty value');
  if (value.length > limits.maxLength) return err(`Rule length exceeds the maximum of ${limits.maxLength} characters (got ${value.length})`);
  const tokens = tokenize(value);
  if (!tokens.ok) return tokens;
  let pos = 0;
  const toks = tokens.value;

  const parseOr = (): Result<RuleNode, string> => {
    const branches: RuleNode[] = [];
    for (;;) {
      const branch = parseAnd();
      if (!branch.ok) return branch;
      branches.push(branch.value);
      if (toks[pos]?.t === 'or') {
        pos++;
        continue;
      }
      break;
    }
    return ok(branches.length === 1 ? branches[0]! : { kind: 'or', children: branches });
  };
  const parseAnd = (): Result<RuleNode, string> => {
    const items: RuleNode[] = [];
    for (;;) {
      const tok = toks[pos];
      if (!tok || tok.t === 'rparen' || tok.t === 'or') break;
      pos++;
      if (tok.t === 'term') {
        items.push(tok.neg ? { kind: 'not', child: tok.node } : tok.node);
        continue;
      }
      const inner = parseOr();
      if (!inner.ok) return inner;
      if (toks[pos]?.t !== 'rparen') return err('Unbalanced parentheses: missing )');
      pos++;
      items.push(tok.neg ? { kind: 'not', child: inner.value } : inner.value);
    }
    if (items.length === 0) {
      const tok = toks[pos];
      return err(tok?.t === 'or' || tok === undefined ? "Ambiguous use of 'OR': it needs a clause on both sides" : 'Empty group ()');
    }
    return ok(items.length === 1 ? items[0]! : { kind: 'and', children: items });
  };

  const tree = parseOr();
  if (!tree.ok) return tree;
  if (pos < toks.length) return err(toks[pos]!.t === 'rparen' ? 'Unbalanced parentheses: unexpected )' : `Unexpected token at ${pos}`);
  if (!hasPositiveStandalone(tree.value))
    return err('Rules must contain at least one positive, non-stand-alone clause (a keyword, "phrase", #hashtag or @mention that is not negated)');
  return ok(tree.value);
}

/** What a rule can look at in a post, computed once per post. */
export interface MatchablePost {
  readonly tokens: readonly string[];
  readonly tokenSet: ReadonlySet<string>;
  readonly hashtags: ReadonlySet<string>;
  readonly mentions: ReadonlySet<string>;
  readonly lang: string | undefined;
  readonly isRetweet: boolean;
  readonly hasLinks: boolean;
}

interface PostData {
  readonly text?: unknown;
  readonly lang?: unknown;
  readonly entities?: { hashtags?: { tag?: string }[]; mentions?: { username?: string }[]; urls?: unknown[] };
  readonly referenced_tweets?: { type?: string }[];
}

export function matchable(data: PostData): MatchablePost {
  const text = typeof data.text === 'string' ? data.text : '';
  // Plain word tokens exclude #hashtags and @mentions: a keyword does not match inside them.
  const plain = text.replace(/[#@][\p{L}\p{N}_]+/gu, ' ').replace(/https?:\/\/\S+/g, ' ');
  const tokens = wordTokens(plain);
  const hashtags = new Set(
    (data.entities?.hashtags?.map((h) => h.tag ?? '') ?? [...text.matchAll(/#([\p{L}\p{N}_]+)/gu)].map((m) => m[1]!)).map((s) => s.toLowerCase()),
  );
  const mentions = new Set(
    (data.entities?.mentions?.map((m) => m.username ?? '') ?? [...text.matchAll(/@(\w+)/g)].map((m) => m[1]!)).map((s) => s.toLowerCase()),
  );
  return {
    tokens,
    tokenSet: new Set(tokens),
    hashtags,
    mentions,
    lang: typeof data.lang === 'string' ? data.lang.toLowerCase() : undefined,
    isRetweet: data.referenced_tweets?.some((r) => r.type === 'retweeted') ?? /^RT @/.test(text),
    hasLinks: (data.entities?.urls?.length ?? 0) > 0 || /https?:\/\//.test(text),
  };
}

function containsSequence(tokens: readonly string[], seq: readonly string[]): boolean {
  outer: for (let i = 0; i + seq.length <= tokens.length; i++) {
    for (let k = 0; k < seq.length; k++) if (tokens[i + k] !== seq[k]) continue outer;
    return true;
  }
  return false;
}

export function matches(node: RuleNode, post: MatchablePost): boolean {
  switch (node.kind) {
    case 'keyword':
      return post.tokenSet.has(node.tokens[0]!);
    case 'phrase':
      return node.tokens.every((t) => post.tokenSet.has(t)) && containsSequence(post.tokens, node.tokens);
    case 'hashtag':
      return post.hashtags.has(node.tag);
    case 'mention':
      return post.mentions.has(node.user);
    case 'lang':
      return post.lang === node.lang;
    case 'is_retweet':
      return post.isRetweet;
    case 'has_links':
      return post.hasLinks;
    case 'not':
      return !matches(node.child, post);
    case 'and':
      return node.children.every((c) => matches(c, post));
    case 'or':
      return node.children.some((c) => matches(c, post));
  }
}
