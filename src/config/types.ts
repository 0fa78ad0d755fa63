import { z } from 'zod';

/** Leaf helpers shared by the config sections. Environment values arrive as strings and are coerced here. */
export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().nonnegative();
export const positiveNumber = z.coerce.number().positive();

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

/**
 * A boolean: a real one, or true/false, 1/0, yes/no, on/off (any case). Anything else is refused:
 * a typo such as "ture" must not quietly mean false.
 */
export const flag = z.preprocess(
  (v) => {
    const word = typeof v === 'string' ? v.trim().toLowerCase() : typeof v === 'number' ? String(v) : undefined;
    if (word === undefined) return v;
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return v;
  },
  z.boolean({ error: 'expected a boolean: true/false, 1/0, yes/no or on/off' }),
);

/** A list from an array or a comma-separated string (items trimmed, empty ones dropped): every array key uses it, so the environment can set it. */
export const stringList = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);

/**
 * An http: or https: URL. Other schemes (file:, ftp:, javascript:, ...) are refused: these keys
 * name servers crowdpulse sends requests (and credentials) to.
 */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
