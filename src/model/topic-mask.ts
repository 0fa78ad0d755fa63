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

  /** The text with every match replaced by PLACEHOLDER (spec v1); the same string when nothing matched. */
  apply(text: string): string {
    if (this.empty) return text;
    const ws = words(text);
    let out = '';
    let copied = 0;
    for (let i = 0; i < ws.length;) {
      const w = ws[i]!;
      const prefixed = hasPrefix(text, w.start);
      let span = this.#longestAt(text, ws, i);
      if (span === 0 && prefixed && this.#joined.has(w.lower)) span = 1;
      if (span === 0) {
        i++;
        continue;
      }
      const start = prefixed ? w.start - 1 : w.start;
      out += text.slice(copied, start) + this.placeholder;
      copied = ws[i + span - 1]!.end;
      i += span;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }

  /** Words taken by the longest term matching at word i (0 = none). */
  #longestAt(text: string, ws: readonly Word[], i: number): number {
    const candidates = this.#byFirst.get(ws[i]!.lower);
    if (candidates === undefined) return 0;
    for (const term of candidates) {
      if (i + term.length > ws.length) continue;
      let k = 1;
      for (; k < term.length; k++) {
        const prev = ws[i + k - 1]!;
        const next = ws[i + k]!;
        if (next.lower !== term[k] || !GAP_RE.test(text.slice(prev.end, next.start))) break;
      }
      if (k === term.length) return term.length;
    }
    return 0;
  }
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
