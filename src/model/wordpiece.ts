/**
 * WordPiece ids for the accurate tier: the model's own tokenizer.json run by
 * @huggingface/tokenizers (pure JS), on v1-normalised text, truncated to maxLength with
 * [CLS] … [SEP] kept (what the Python `tokenizers` truncation does for a single sequence).
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from './errors.js';

/**
 * The part of @huggingface/tokenizers' Tokenizer used here, as its 0.2 declarations give it: they
 * import their own modules without file extensions, which NodeNext resolution cannot follow, so
 * the class is typed here instead of being an unresolved type.
 */
interface WordPieceTokenizer {
  token_to_id(token: string): number | undefined;
  encode(text: string): { ids: number[] };
}
const TokenizerClass = Tokenizer as unknown as new (tokenizer: object, config: object) => WordPieceTokenizer;

export class WordPiece {
  readonly #tok: WordPieceTokenizer;
  readonly #maxLength: number;
  readonly #sep: number;

  constructor(tokenizerJsonPath: string, tokenizerConfigPath: string, maxLength: number) {
    const json = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8')) as object;
    const config = JSON.parse(readFileSync(tokenizerConfigPath, 'utf8')) as object;
    this.#tok = new TokenizerClass(json, config);
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
