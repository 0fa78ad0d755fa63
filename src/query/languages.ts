import { FLAG_NON_ENGLISH } from '../contract/index.js';

/**
 * Posts in a language the model does not support (flagged FLAG_NON_ENGLISH by the analyze stage:
 * scored, but by a model that cannot read them) are stored, and left out of every count, mean,
 * share and interval unless a reader asks to include them. A topic summary says how many of its
 * posts in the range were left out (`leftOut`).
 */
export const UNSUPPORTED_LANGUAGE_MODES = ['exclude', 'include'] as const;
export type UnsupportedLanguages = (typeof UNSUPPORTED_LANGUAGE_MODES)[number];
export const DEFAULT_UNSUPPORTED_LANGUAGES: UnsupportedLanguages = 'exclude';

/** Whether a range leaves posts in unsupported languages out (the default). */
export const excludesUnsupported = (range: { readonly unsupportedLanguages?: UnsupportedLanguages } | undefined): boolean =>
  (range?.unsupportedLanguages ?? DEFAULT_UNSUPPORTED_LANGUAGES) === 'exclude';

/** The flag a post in an unsupported language carries. */
export const UNSUPPORTED_FLAG = FLAG_NON_ENGLISH;

/** Whether stored flags (comma-separated, as both stores keep them) mark a post in an unsupported language. */
export const isUnsupported = (flags: string): boolean => flags !== '' && flags.split(',').includes(UNSUPPORTED_FLAG);
