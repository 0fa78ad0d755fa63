/**
 * Encoders turn a batch of post texts into the feeds of a model's ONNX graph. Pure (no threads):
 * the inference worker, the eval command, benches and tests share them.
 *  - hashed-ngrams (fast):   flat, no padding: feature_ids int32 [n] (every post's ids in turn),
 *                            feature_rows int64 [n, 1] (the post of each id), feature_counts float32 [batch, 1]
 *  - wordpiece (accurate):   input_ids, attention_mask int64 [batch, seq]
 * Both graphs output probs float32 [batch, 3] in the manifest's label order.
 */
import { endianness } from 'node:os';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { HashedNgrams } from './hashed-ngrams.js';
import type { ModelManifest } from './manifest.js';
import { normalize } from './normalize.js';
import { WordPiece } from './wordpiece.js';

export interface Encoder {
  encode(texts: string[]): Record<string, Tensor>;
}

/** Whether int64 values can be written as (low, high) int32 pairs (true on x86 and arm64 Node). */
const LITTLE_ENDIAN = endianness() === 'LE';

export class HashedNgramsEncoder implements Encoder {
  readonly #features: HashedNgrams;
  #scratch = new Int32Array(0);

  constructor(buckets: number, maxFeatures: number) {
    this.#features = new HashedNgrams(buckets, maxFeatures);
  }

  encode(texts: string[]): Record<string, Tensor> {
    const b = texts.length;
    const max = this.#features.maxFeatures;
    if (this.#scratch.length < b * max + 1) this.#scratch = new Int32Array(b * max + 1);
    const counts = new Float32Array(b);
    let n = 0;
    for (let i = 0; i < b; i++) {
      const c = this.#features.featuresInto(normalize(texts[i]!), this.#scratch, n);
      counts[i] = c;
      n += c;
    }
    // A batch without any feature still needs one: id 0 (the zero row) on post 0, count unchanged.
    const empty = n === 0;
    if (empty) this.#scratch[n++] = 0;
    const ids = this.#scratch.slice(0, n);
    const rows = new BigInt64Array(n);
    if (empty) {
      // rows[0] is already 0
    } else if (LITTLE_ENDIAN) {
      const words = new Int32Array(rows.buffer);
      let k = 0;
      for (let i = 0; i < b; i++) for (let c = counts[i]!; c > 0; c--) words[2 * k++] = i;
    } else {
      let k = 0;
      for (let i = 0; i < b; i++) for (let c = counts[i]!; c > 0; c--) rows[k++] = BigInt(i);
    }
    return {
      feature_ids: new Tensor('int32', ids, [n]),
      feature_rows: new Tensor('int64', rows, [n, 1]),
      feature_counts: new Tensor('float32', counts, [b, 1]),
    };
  }
}

/** An encoder that pads each call's posts to the longest: its token ids first, then the feeds of any subset. */
export interface PaddedEncoder extends Encoder {
  /** Each text's token ids, before padding. */
  rows(texts: readonly string[]): number[][];
  /** The feeds for these rows, padded to the longest. */
  feeds(rows: readonly (readonly number[])[]): Record<string, Tensor>;
}

export const isPaddedEncoder = (e: Encoder): e is PaddedEncoder => 'rows' in e && 'feeds' in e;

export class WordPieceEncoder implements PaddedEncoder {
  constructor(private readonly wordpiece: WordPiece) {}

  encode(texts: string[]): Record<string, Tensor> {
    return this.feeds(this.rows(texts));
  }

  rows(texts: readonly string[]): number[][] {
    return texts.map((t) => this.wordpiece.ids(normalize(t)));
  }

  feeds(rows: readonly (readonly number[])[]): Record<string, Tensor> {
    const b = rows.length;
    const seq = Math.max(1, ...rows.map((r) => r.length));
    const ids = new BigInt64Array(b * seq);
    const mask = new BigInt64Array(b * seq);
    for (let i = 0; i < b; i++) {
      const r = rows[i]!;
      for (let j = 0; j < r.length; j++) {
        ids[i * seq + j] = BigInt(r[j]!);
        mask[i * seq + j] = 1n;
      }
    }
    return { input_ids: new Tensor('int64', ids, [b, seq]), attention_mask: new Tensor('int64', mask, [b, seq]) };
  }
}

export async function createEncoder(manifest: ModelManifest, dir: string): Promise<Encoder> {
  const e = manifest.encoder;
  switch (e.kind) {
    case 'hashed-ngrams':
      return new HashedNgramsEncoder(e.buckets, e.maxFeatures);
    case 'wordpiece':
      return new WordPieceEncoder(new WordPiece(join(dir, e.tokenizer), join(dir, e.tokenizerConfig), e.maxLength));
  }
}
