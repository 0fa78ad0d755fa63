import { err, ok, type Result } from '../contract/index.js';
import { AMPLIFICATION_MODES, DEFAULT_AMPLIFICATION, type AmplificationMode } from './amplification.js';
import type { TimeRange } from './sentiment-query.js';
import { DEFAULT_UNSUPPORTED_LANGUAGES, UNSUPPORTED_LANGUAGE_MODES, type UnsupportedLanguages } from './languages.js';

/**
 * The filters `crowdpulse query` and the dashboard API both take, parsed in one place from the
 * same raw strings (flags or URL parameters): languages, the amplification mode, the author
 * cap and whether posts in languages the model does not support are included. A value that is not understood is an error naming the parameter, never a default.
 */
export interface RawFilters {
  /** Comma-separated language codes. */
  readonly langs?: string | undefined;
  readonly amplification?: string | undefined;
  /** A whole number ≥ 1, or absent / '' / 0 for none. */
  readonly authorCap?: string | undefined;
  /** exclude (default, also '') or include: posts in languages the model does not support (src/query/languages.ts). */
  readonly unsupportedLanguages?: string | undefined;
}

export type Filters = Pick<TimeRange, 'langs' | 'amplification' | 'authorCap' | 'unsupportedLanguages'>;

/** Most posts of one author counted per bucket: far above what a cap is for, below what SQLite's window counts. */
const MAX_AUTHOR_CAP = 1_000_000;
const LANG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export function parseFilters(raw: RawFilters): Result<Filters, string> {
  const langs = (raw.langs ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const badLang = langs.find((l) => !LANG.test(l));
  if (badLang !== undefined) return err(`langs: "${badLang.slice(0, 40)}" is not a language code (en, es, pt-BR, und)`);
  const amplification = raw.amplification === undefined || raw.amplification === '' ? DEFAULT_AMPLIFICATION : raw.amplification;
  if (!(AMPLIFICATION_MODES as readonly string[]).includes(amplification))
    return err(`amplification must be one of ${AMPLIFICATION_MODES.join(', ')}, got "${amplification.slice(0, 40)}"`);
  let authorCap: number | undefined;
  if (raw.authorCap !== undefined && raw.authorCap !== '' && raw.authorCap !== '0') {
    const cap = Number(raw.authorCap);
    if (!Number.isInteger(cap) || cap < 1 || cap > MAX_AUTHOR_CAP)
      return err(`author cap must be a whole number in [1, ${MAX_AUTHOR_CAP}] (0 for none), got "${raw.authorCap.slice(0, 40)}"`);
    authorCap = cap;
  }
  const unsupported = raw.unsupportedLanguages === undefined || raw.unsupportedLanguages === '' ? DEFAULT_UNSUPPORTED_LANGUAGES : raw.unsupportedLanguages;
  if (!(UNSUPPORTED_LANGUAGE_MODES as readonly string[]).includes(unsupported))
    return err(`unsupported languages must be one of ${UNSUPPORTED_LANGUAGE_MODES.join(', ')}, got "${unsupported.slice(0, 40)}"`);
  return ok({
    amplification: amplification as AmplificationMode,
    unsupportedLanguages: unsupported as UnsupportedLanguages,
    ...(langs.length > 0 ? { langs } : {}),
    ...(authorCap === undefined ? {} : { authorCap }),
  });
}
