/** The manifest of a model directory (models/<tier>/model.json) and its validation. */
import { z } from 'zod';

export const MODEL_LABELS = ['negative', 'neutral', 'positive'] as const;

const HashedNgramsEncoder = z
  .object({
    kind: z.literal('hashed-ngrams'),
    version: z.literal('v1'),
    /** Hash buckets (a power of two); ids are 1 + (hash & (buckets − 1)), 0 is padding. */
    buckets: z
      .number()
      .int()
      .min(2)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
    /** Features kept per post (the first ones in spec order). */
    maxFeatures: z.number().int().min(1).max(65536),
  })
  .strict();

const WordPieceEncoder = z
  .object({
    kind: z.literal('wordpiece'),
    /** tokenizer.json (Hugging Face format) in the model directory. */
    tokenizer: z.string().min(1),
    /** tokenizer_config.json beside it. */
    tokenizerConfig: z.string().min(1),
    /** Sequence length cap, [CLS] and [SEP] included. */
    maxLength: z.number().int().min(3).max(512),
  })
  .strict();

/** How the pipeline feeds the model: measured per tier (bench/results), kept with the model it was measured on. */
const Serving = z
  .object({
    /** Posts per inference call when model.maxBatch is 0. */
    maxBatch: z.number().int().min(1).max(8192),
    /** Padded encoders: each batch runs as calls of at most this many posts sorted by token count (0 = the whole batch in one call). */
    lengthSortedChunk: z.number().int().min(0).max(8192),
    /** Padded encoders: a call is cut where padding to its longest post would exceed this share of its real tokens. */
    maxPaddingShare: z.number().min(0).max(100).default(0.1),
  })
  .strict();

export const ModelManifestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lowercase letters, digits, dots and dashes'),
    tier: z.enum(['fast', 'accurate']),
    labels: z.tuple([z.literal('negative'), z.literal('neutral'), z.literal('positive')]),
    onnx: z
      .string()
      .min(1)
      .refine((p) => !p.includes('..') && !p.startsWith('/'), 'must be a file inside the model directory'),
    encoder: z.discriminatedUnion('kind', [HashedNgramsEncoder, WordPieceEncoder]),
    normalization: z.literal('v1'),
    serving: Serving,
  })
  .passthrough();

export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type HashedNgramsEncoderSpec = z.infer<typeof HashedNgramsEncoder>;
export type WordPieceEncoderSpec = z.infer<typeof WordPieceEncoder>;
