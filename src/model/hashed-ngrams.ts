/**
 * Featuriser "hashed-ngrams-v1" of the fast tier: normalised text → hashed word uni/bigram and
 * char 3–5-gram ids. Mirrors models/training/features.py byte for byte (parity test:
 * test/model/hashed-ngrams-parity.test.ts); the spec is written there. Hashes are 32-bit FNV-1a
 * over UTF-8 bytes; id = 1 + (hash & (buckets − 1)), 0 is padding.
 * Works on reusable typed arrays: no per-character allocation, no regular expressions.
 */
import { ModelError } from './errors.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const PUNCT = new Uint8Array(256);
for (const [lo, hi] of [
  [0x21, 0x2f],
  [0x3a, 0x40],
  [0x5b, 0x60],
  [0x7b, 0x7e],
] as const) {
  for (let b = lo; b <= hi; b++) PUNCT[b] = 1;
}
PUNCT[0x27] = 0;

const step = (h: number, b: number): number => Math.imul(h ^ b, FNV_PRIME) >>> 0;
const H1 = step(FNV_OFFSET, 0x01);
const H2 = step(FNV_OFFSET, 0x02);
const H3 = step(FNV_OFFSET, 0x03);

export class HashedNgrams {
  readonly #mask: number;
  readonly #maxFeatures: number;
  readonly #encoder = new TextEncoder();
  #bytes = new Uint8Array(1024);
  #tokStart = new Int32Array(512);
  #tokEnd = new Int32Array(512);

  constructor(buckets: number, maxFeatures: number) {
    if (!Number.isInteger(buckets) || buckets < 2 || (buckets & (buckets - 1)) !== 0)
      throw new ModelError('CP_MODEL_MANIFEST_INVALID', `buckets must be a power of two ≥ 2, got ${buckets}`);
    this.#mask = buckets - 1;
    this.#maxFeatures = maxFeatures;
  }

  get maxFeatures(): number {
    return this.#maxFeatures;
  }

  /**
   * Writes the feature ids of one (already normalised) text into `out` from `offset`; returns how
   * many were written (≤ maxFeatures). `out` must have room for maxFeatures ids after offset.
   */
  featuresInto(text: string, out: Int32Array | Uint32Array, offset: number): number {
    if (this.#bytes.length < text.length * 3 + 2) this.#bytes = new Uint8Array(text.length * 3 + 64);
    const bytes = this.#bytes;
    const n = this.#encoder.encodeInto(text, bytes).written;
    // tokens: ASCII-lowercase in place, split on spaces, punctuation bytes stand alone
    let nt = 0;
    let start = -1;
    for (let i = 0; i < n; i++) {
      let b = bytes[i]!;
      if (b >= 0x41 && b <= 0x5a) bytes[i] = b += 32;
      if (b === 0x20 || PUNCT[b] === 1) {
        if (start >= 0) nt = this.#push(nt, start, i);
        start = -1;
        if (b !== 0x20) nt = this.#push(nt, i, i + 1);
      } else if (start < 0) start = i;
    }
    if (start >= 0) nt = this.#push(nt, start, n);
    const ts = this.#tokStart;
    const te = this.#tokEnd;
    const max = this.#maxFeatures;
    const mask = this.#mask;
    let c = 0;
    for (let t = 0; t < nt && c < max; t++) {
      let h = H1;
      for (let i = ts[t]!; i < te[t]!; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME) >>> 0;
      out[offset + c++] = 1 + (h & mask);
    }
    for (let t = 0; t + 1 < nt && c < max; t++) {
      let h = H2;
      for (let i = ts[t]!; i < te[t]!; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME) >>> 0;
      h = Math.imul(h ^ 0x20, FNV_PRIME) >>> 0;
      for (let i = ts[t + 1]!; i < te[t + 1]!; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME) >>> 0;
      out[offset + c++] = 1 + (h & mask);
    }
    // char 3..5-grams of "<" + token + ">"
    for (let t = 0; t < nt && c < max; t++) {
      const a = ts[t]!;
      const len = te[t]! - a + 2;
      for (let s = 0; s + 2 < len && c < max; s++) {
        let h = H3;
        const end = Math.min(s + 5, len);
        for (let k = s; k < end; k++) {
          const b = k === 0 ? 0x3c : k === len - 1 ? 0x3e : bytes[a + k - 1]!;
          h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
          if (k - s >= 2) {
            out[offset + c++] = 1 + (h & mask);
            if (c >= max) break;
          }
        }
      }
    }
    return c;
  }

  /** Feature ids of one normalised text (allocates; for tests and tools). */
  features(text: string): number[] {
    const out = new Int32Array(this.#maxFeatures);
    return Array.from(out.subarray(0, this.featuresInto(text, out, 0)));
  }

  #push(nt: number, a: number, b: number): number {
    if (nt === this.#tokStart.length) {
      const s = new Int32Array(nt * 2);
      s.set(this.#tokStart);
      this.#tokStart = s;
      const e = new Int32Array(nt * 2);
      e.set(this.#tokEnd);
      this.#tokEnd = e;
    }
    this.#tokStart[nt] = a;
    this.#tokEnd[nt] = b;
    return nt + 1;
  }
}
