/**
 * WordPiece ids for the accurate tier: the model's own tokenizer.json run by
 * @huggingface/tokenizers (pure JS), on v1-normalised text, truncated to maxLength with
 * [CLS] … [SEP] kept (what the Python `tokenizers` truncation does for a single sequence).
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from './errors.js';

export class WordPiece {
  readonly #tok: Tokenizer;
  readonly #maxLength: number;
  readonly #sep: number;

  constructor(tokenizerJsonPath: string, tokenizerConfigPath: string, maxLength: number) {
    const json = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8')) as object;
    const config = JSON.parse(readFileSync(tokenizerConfigPath, 'utf8')) as object;
    this.#tok = new Tokenizer(json, config);
    this.#maxLength = maxLength;
    const sep = this.#tok.token_to_id('[SEP]');
    if (sep === undefined) throw new ModelError('CP_MODEL_FILE_INVALID', `${tokenizerJsonPath}: no [SEP] token`);
    this.#sep = sep;
  }

  /** Ids of one normalised text, [CLS] and [SEP] included, at most maxLength. */
  ids(text: string): number[] {
    const ids = this.#tok.encode(text).ids;
    if (ids.length <= this.#maxLength) return ids;
    const cut = ids.slice(0, this.#maxLength - 1);
    cut.push(this.#sep);
    return cut;
  }
}
