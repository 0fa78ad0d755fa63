import { z } from 'zod';
import { POST_ID_DIGITS } from './canonical.js';

/**
 * The checks the contract's fast paths make by hand: each one accepts only values that the
 * corresponding zod schema accepts too (a value it does not recognise goes through the schema,
 * which decides and explains). Kept next to each other so they stay as strict as the schemas.
 */
const isoDateTime = z.iso.datetime({ offset: true });

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** z.iso.datetime({ offset: true }) */
export const isIsoDateTime = (v: unknown): v is string => typeof v === 'string' && isoDateTime.safeParse(v).success;

/** z.string().regex(POST_ID_DIGITS) */
export const isPostIdDigits = (v: unknown): v is string => typeof v === 'string' && POST_ID_DIGITS.test(v);

export const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

/** z.array(z.string()) */
export function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const x of v as unknown[]) if (typeof x !== 'string') return false;
  return true;
}

/** z.number().int().nonnegative(), narrowed to safe integers (zod decides the rest). */
export const isNonNegativeSafeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** z.number().min(lo).max(hi) for finite numbers (NaN fails both comparisons). */
export const isNumberIn = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && v >= lo && v <= hi;
