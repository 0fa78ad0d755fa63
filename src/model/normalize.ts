/**
 * Text normalisation "v1", applied to every post before either model's encoder.
 * The same spec is implemented in models/training/normalize.py (used at training time);
 * test/model/normalize-parity.test.ts checks that both give identical output.
 *
 *  1. Whitespace characters (WS below) become a plain space.
 *  2. &amp; &lt; &gt; &quot; &#39; are decoded (one pass).
 *  3. URLs ("http://", "https://", "www." up to the next space) become the token "http".
 *  4. @mentions become "@user"; 5. hashtags lose the "#" ("#blessed" → "blessed").
 *  6. Emoji become their Unicode name in words (models/emoji-names.json); a run of the same
 *     emoji is written once; ZWJ, variation selectors, skin tones, tag chars, keycap dropped.
 *  7. Runs of spaces collapse, the ends are trimmed. Case is kept.
 * Patterns use ASCII classes only, so Python `re` and JS RegExp agree.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelError } from './errors.js';

export const NORMALIZATION_VERSION = 'v1';
export const EMOJI_NAMES_PATH = fileURLToPath(new URL('../../models/emoji-names.json', import.meta.url));

// eslint-disable-next-line no-control-regex -- U+001C-U+001F (information separators) are in v1's whitespace set, as in normalize.py's WS_CHARS
const WS_RE = /[\t\n\v\f\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/g;
const ENTITY_RE = /&(amp|lt|gt|quot|#39);/g;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const URL_RE = /(?:[Hh][Tt][Tt][Pp][Ss]?:\/\/|[Ww][Ww][Ww]\.)[^ ]+/g;
const MENTION_RE = /(?<![A-Za-z0-9_])@[A-Za-z0-9_]+/g;
const HASHTAG_RE = /(?<![A-Za-z0-9_])#([A-Za-z0-9_]+)/g;
const SPACES_RE = / {2,}/g;
/** Anything the emoji pass could touch: ZWJ, keycap, and every code unit from U+2300 up (incl. surrogates). */
// eslint-disable-next-line no-misleading-character-class -- code units on purpose (no u flag): ZWJ and the keycap mark alone also need the pass
const NEEDS_EMOJI_PASS = /[\u200d\u20e3\u2300-\uffff]/;

function isDropped(cp: number): boolean {
  return cp === 0x200d || cp === 0xfe0e || cp === 0xfe0f || cp === 0x20e3 || (cp >= 0x1f3fb && cp <= 0x1f3ff) || (cp >= 0xe0020 && cp <= 0xe007f);
}

export type EmojiNames = ReadonlyMap<number, string>;

let emojiNames: EmojiNames | undefined;

/** The emoji table shared with the Python side (models/emoji-names.json, generated from Unicode names). */
export function loadEmojiNames(path: string = EMOJI_NAMES_PATH): EmojiNames {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { names?: Record<string, string> };
  if (!doc.names || typeof doc.names !== 'object') throw new ModelError('CP_MODEL_FILE_INVALID', `${path}: no "names" table`);
  const map = new Map<number, string>();
  for (const [hex, name] of Object.entries(doc.names)) map.set(Number.parseInt(hex, 16), name);
  return map;
}

function mapEmoji(text: string, table: EmojiNames): string {
  let out = '';
  let last: string | undefined;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x2300) {
      if (cp === 0x200d || cp === 0x20e3) continue;
      if (cp !== 0x20) last = undefined;
      out += ch;
      continue;
    }
    if (isDropped(cp)) continue;
    const name = table.get(cp);
    if (name !== undefined) {
      if (name !== last) {
        out += ` ${name} `;
        last = name;
      }
      continue;
    }
    last = undefined;
    out += ch;
  }
  return out;
}

function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) === 0x20) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Normalise one post's text (spec v1). */
export function normalize(text: string): string {
  let t = text.replace(WS_RE, ' ');
  t = t.replace(ENTITY_RE, (_m, e: string) => ENTITIES[e] ?? _m);
  t = t.replace(URL_RE, 'http');
  t = t.replace(MENTION_RE, '@user');
  t = t.replace(HASHTAG_RE, '$1');
  if (NEEDS_EMOJI_PASS.test(t)) t = mapEmoji(t, (emojiNames ??= loadEmojiNames()));
  t = t.replace(SPACES_RE, ' ');
  return trimSpaces(t);
}
