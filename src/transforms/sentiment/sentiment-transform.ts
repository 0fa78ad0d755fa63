import { FLAG_NON_ENGLISH, LABELS, UNKNOWN_LANG, deadLetter, type Post, type Probabilities, type ScoredPost, scoredPostOf } from '../../contract/index.js';
import type { Batch, DeadLetterSink, Transform } from '../../pipeline/component.js';
import { logger } from '../../telemetry/log.js';
import { inferenceSeconds } from '../../telemetry/metrics.js';
import type { SentimentPool } from './sentiment-pool.js';
import { ModelError } from '../../model/errors.js';
import { topicsKey } from '../../model/topic-terms.js';

const log = logger('analyze');

/** Softmax output can stray a few ulps outside [0, 1]; the contract requires probabilities. */
const unit = (x: number | undefined): number => (x === undefined || Number.isNaN(x) ? 0 : Math.min(1, Math.max(0, x)));

export interface SentimentTransformOptions {
  readonly modelId: string;
  /** Label order of the model's output columns. */
  readonly labels: readonly string[];
  /** Languages the model was trained on; posts in others are scored and flagged. */
  readonly languages: readonly string[];
}

/**
 * Analyze stage: a batch of posts → one batched inference call in a worker → scored posts. With
 * topic-fair scoring, the worker first masks each post's topic terms (src/model/topic-mask.ts).
 * A batch whose inference fails is dead-lettered with the reason; the stream goes on.
 */
export class SentimentTransform implements Transform<Post, ScoredPost> {
  readonly name = 'sentiment';
  readonly stage = 'analyze' as const;
  readonly #columns: { neg: number; neu: number; pos: number };

  constructor(
    private readonly pool: SentimentPool,
    private readonly options: SentimentTransformOptions,
    private readonly deadLetters: DeadLetterSink,
  ) {
    const column = (label: (typeof LABELS)[number]): number => {
      const i = options.labels.indexOf(label);
      if (i < 0) throw new ModelError('CP_MODEL_MANIFEST_INVALID', `model ${options.modelId} has no "${label}" output (labels: ${options.labels.join(', ')})`);
      return i;
    };
    this.#columns = { neg: column('negative'), neu: column('neutral'), pos: column('positive') };
  }

  async apply(batch: Batch<Post>): Promise<Batch<ScoredPost>> {
    const posts = batch.items;
    if (posts.length === 0) return { items: [], ack: batch.ack };
    const started = performance.now();
    let probs: Float32Array;
    try {
      // Topic-fair scoring masks in the workers (they have the terms): each text goes with its post's topics.
      const texts = posts.map((p) => p.text);
      probs = (await this.pool.run(texts, this.pool.masksTopics ? posts.map((p) => topicsKey(p.topics)) : undefined)).probs;
    } catch (e) {
      const reason = `inference failed for a batch of ${posts.length}: ${(e as Error).message}`;
      log.error(reason);
      await this.deadLetters.write(posts.map((p) => deadLetter('analyze', 'inference_failed', reason, JSON.stringify(p), `post:${p.id}`)));
      return { items: [], ack: batch.ack };
    }
    inferenceSeconds.observe({ model: this.options.modelId }, (performance.now() - started) / 1000);
    const width = this.options.labels.length;
    const analyzedAt = Date.now();
    const scored = posts.map((post, i): ScoredPost => {
      const row = i * width;
      const p: Probabilities = {
        neg: unit(probs[row + this.#columns.neg]),
        neu: unit(probs[row + this.#columns.neu]),
        pos: unit(probs[row + this.#columns.pos]),
      };
      const english = this.options.languages.includes(post.lang) || post.lang === UNKNOWN_LANG;
      return scoredPostOf(post, p, { model: this.options.modelId, flags: english ? [] : [FLAG_NON_ENGLISH], analyzedAt });
    });
    return { items: scored, ack: batch.ack };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
