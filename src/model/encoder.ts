/**
 * Encoders turn a batch of post texts into the feeds of a model's ONNX graph. Pure (no threads):
 * the inference worker, the eval command, benches and tests share them.
 *  - hashed-ngrams (fast):   feature_ids int32 [batch, n], 0 = padding
 *  - wordpiece (accurate):   input_ids, attention_mask int64 [batch, seq]
 * Both graphs output probs float32 [batch, 3] in the manifest's label order.
 */
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { HashedNgrams } from './hashed-ngrams.js';
import type { ModelManifest } from './manifest.js';
import { normalize } from './normalize.js';
import { WordPiece } from './wordpiece.js';

export interface Encoder {
  encode(texts: string[]): Record<string, Tensor>;
}

export class HashedNgramsEncoder implements Encoder {
  readonly #features: HashedNgrams;
  #scratch = new Int32Array(0);
  #counts = new Int32Array(0);

  constructor(buckets: number, maxFeatures: number) {
    this.#features = new HashedNgrams(buckets, maxFeatures);
  }

  encode(texts: string[]): Record<string, Tensor> {
    const b = texts.length;
    const max = this.#features.maxFeatures;
    if (this.#scratch.length < b * max) this.#scratch = new Int32Array(b * max);
    if (this.#counts.length < b) this.#counts = new Int32Array(b);
    let width = 1;
    for (let i = 0; i < b; i++) {
      const c = this.#features.featuresInto(normalize(texts[i]!), this.#scratch, i * max);
      this.#counts[i] = c;
      if (c > width) width = c;
    }
    const ids = new Int32Array(b * width);
    for (let i = 0; i < b; i++) ids.set(this.#scratch.subarray(i * max, i * max + this.#counts[i]!), i * width);
    return { feature_ids: new Tensor('int32', ids, [b, width]) };
  }
}

export class WordPieceEncoder implements Encoder {
  constructor(private readonly wordpiece: WordPiece) {}

  encode(texts: string[]): Record<string, Tensor> {
    const rows = texts.map((t) => this.wordpiece.ids(normalize(t)));
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
