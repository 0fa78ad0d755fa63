/**
 * Topic-fair scoring: the terms that put a post into its topics are replaced by one neutral
 * placeholder before the model sees the text, so a topic's own name cannot move its score.
 *
 * The same spec is implemented in models/training/topic_mask.py (training and evaluation scripts);
 * test/model/topic-mask.test.ts runs both on the same posts and terms and requires identical output.
 * Spec "v1", applied to the raw text (before normalize v1):
 *
 *  1. A word is a maximal run of word characters: Unicode letters (L*), numbers (N*) and "_".
 *     Words compare lower-cased (JS toLowerCase / Python str.lower, whole word).
 *  2. A term is a non-empty list of lower-case words (a keyword, a phrase, a #hashtag's, @handle's or
 *     $cashtag's word). It matches at word i when words i..i+k-1 equal its words and each gap
 *     between two of them is only spaces, tabs, CR, LF or "-".
 *     A term of several words also matches one word equal to its words joined ("#RateDecision"),
 *     but only right after "#", "@" or "$".
 *  3. Scanning words left to right, the longest term that matches at a word wins; the scan goes
 *     on after it. Matches never overlap.
 *  4. A match right after one "#", "@" or "$" takes that character with it, unless a word
 *     character stands just before that character ("a@b" keeps its "@").
 *  5. Each match becomes PLACEHOLDER. Nothing else changes.
 *
 * Unicode classes come from each runtime's tables (Node 20: Unicode 15.1; Python 3.11: 14.0), so
 * letters assigned after Unicode 14 may split words differently; no tracked name uses them today.
 */

export const TOPIC_MASK_VERSION = 'v1';

/**
 * What a masked term becomes: a word both tiers have seen in every kind of post, with no sentiment
 * of its own. Chosen by measurement on TweetEval val among "@user", "it", "this", "someone", "X"
 * and nothing (bench/topic-mask/placeholder.ts; results in bench/results/topic-mask-placeholder-*.md
 * and models/README.md): the best macro-recall of the two tiers together on posts whose names were
 * masked.
 */
export const PLACEHOLDER = 'this';

/** A term: its lower-case words. */
export type Term = readonly string[];

const WORD_RE = /[\p{L}\p{N}_]+/gu;
const WORD_CHAR_RE = /[\p{L}\p{N}_]/u;
const GAP_RE = /^[ \t\r\n-]+$/;
const PREFIXES = '#@$';

interface Word {
  readonly start: number;
  readonly end: number;
  readonly lower: string;
}

/** The words of a text, as the spec splits them. */
export function words(text: string): Word[] {
  const out: Word[] = [];
  WORD_RE.lastIndex = 0;
  for (let m = WORD_RE.exec(text); m !== null; m = WORD_RE.exec(text)) out.push({ start: m.index, end: m.index + m[0].length, lower: m[0].toLowerCase() });
  return out;
}

/** Lower-case words of a term as a user writes it ("Manchester United", "#MUFC", "$AAPL"). */
export function termOf(written: string): Term {
  return words(written).map((w) => w.lower);
}

/** Masks one set of terms; build once per set of topics and reuse (the index is the costly part). */
export class TopicMask {
  /** First word → terms starting with it, longest first. */
  readonly #byFirst = new Map<string, Term[]>();
  /** Joined words of multi-word terms (matched after #, @ or $ only). */
  readonly #joined = new Set<string>();

  /** `placeholder` other than PLACEHOLDER is for measuring candidates only (bench/topic-mask/). */
  constructor(
    terms: Iterable<Term>,
    readonly placeholder: string = PLACEHOLDER,
  ) {
    for (const term of terms) {
      if (term.length === 0 || term.some((w) => w.length === 0)) continue;
      const list = this.#byFirst.get(term[0]!) ?? [];
      if (!list.some((t) => sameTerm(t, term))) list.push(term);
      list.sort((a, b) => b.length - a.length);
      this.#byFirst.set(term[0]!, list);
      if (term.length > 1) this.#joined.add(term.join(''));
    }
  }

  get empty(): boolean {
    return this.#byFirst.size === 0;
  }

  /**
   * The text with every match replaced by the placeholder (spec v1); the same string when nothing
   * matched. Scans the words one regex match at a time and looks further ahead only where a word
   * starts a term: it runs once per post, in the inference workers.
   */
  apply(text: string): string {
    if (this.empty) return text;
    const re = SCAN_RE;
    re.lastIndex = 0;
    let out = '';
    let copied = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const lower = m[0].toLowerCase();
      const candidates = this.#byFirst.get(lower);
      if (candidates === undefined && !this.#joined.has(lower)) continue;
      const start = m.index;
      const end = start + m[0].length;
      const prefixed = hasPrefix(text, start);
      let matchEnd = candidates === undefined ? -1 : longestAt(text, end, candidates);
      if (matchEnd < 0 && prefixed && this.#joined.has(lower)) matchEnd = end;
      if (matchEnd < 0) continue;
      out += text.slice(copied, prefixed ? start - 1 : start) + this.placeholder;
      copied = matchEnd;
      re.lastIndex = matchEnd;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }
}

/** apply()'s scan and longestAt()'s look-ahead: own regexes (their lastIndex is state); apply is never re-entered. */
const SCAN_RE = new RegExp(WORD_RE.source, 'gu');
const NEXT_WORD_RE = new RegExp(WORD_RE.source, 'gu');

/** End of the longest of `terms` (longest first) whose first word ends at `end`; −1 = none. */
function longestAt(text: string, end: number, terms: readonly Term[]): number {
  for (const term of terms) {
    let at = end;
    let k = 1;
    for (; k < term.length; k++) {
      NEXT_WORD_RE.lastIndex = at;
      const next = NEXT_WORD_RE.exec(text);
      if (next === null || next[0].toLowerCase() !== term[k] || !GAP_RE.test(text.slice(at, next.index))) break;
      at = next.index + next[0].length;
    }
    if (k === term.length) return at;
  }
  return -1;
}

function sameTerm(a: Term, b: Term): boolean {
  return a.length === b.length && a.every((w, i) => w === b[i]);
}

/** One "#", "@" or "$" right before `at`, with no word character before it. */
function hasPrefix(text: string, at: number): boolean {
  if (at === 0 || !PREFIXES.includes(text[at - 1]!)) return false;
  if (at === 1) return true;
  // The character before the prefix may be the low half of a surrogate pair: test the whole code point.
  const before = text.codePointAt(at - 2);
  const prevChar = before !== undefined && before >= 0xdc00 && before <= 0xdfff && at >= 3 ? String.fromCodePoint(text.codePointAt(at - 3)!) : text[at - 2]!;
  return !WORD_CHAR_RE.test(prevChar);
}

/** A one-off mask (tests, eval); serving keeps TopicMask instances. */
export function maskTopicTerms(text: string, terms: Iterable<Term>): string {
  return new TopicMask(terms).apply(text);
}
