/**
 * Padded encoders (the accurate tier's WordPiece) run a batch as model calls of posts with similar
 * token counts: the plan, and the inference workers putting every post's result back in its place.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadManifest, resolveModelDir } from '../../src/model/registry.js';
import { planChunks } from '../../src/transforms/sentiment/length-chunks.js';
import { SentimentPool } from '../../src/transforms/sentiment/sentiment-pool.js';

const padded = (lengths: readonly number[], chunk: readonly number[]): number => Math.max(...chunk.map((i) => lengths[i]!)) * chunk.length;
const real = (lengths: readonly number[], chunk: readonly number[]): number => chunk.reduce((sum, i) => sum + lengths[i]!, 0);

describe('planChunks', () => {
  const lengths = [30, 5, 12, 5, 64, 7, 12, 12, 3, 40, 6, 6, 6, 9, 21, 22, 23, 5];

  it('covers every post exactly once, each call sorted by token count', () => {
    const chunks = planChunks(lengths, { maxChunk: 4, maxPaddingShare: 0.1 });
    assert.deepEqual(
      chunks.flat().sort((a, b) => a - b),
      lengths.map((_, i) => i),
    );
    for (const chunk of chunks)
      assert.deepEqual(
        [...chunk].sort((a, b) => lengths[a]! - lengths[b]!),
        chunk,
      );
  });

  it('keeps each call within maxChunk posts and its padding within maxPaddingShare of its real tokens', () => {
    for (const [maxChunk, share] of [
      [4, 0.1],
      [16, 0.1],
      [16, 0],
      [8, 0.5],
    ] as const) {
      for (const chunk of planChunks(lengths, { maxChunk, maxPaddingShare: share })) {
        assert.ok(chunk.length <= maxChunk);
        if (chunk.length > 1) assert.ok(padded(lengths, chunk) <= (1 + share) * real(lengths, chunk), `${maxChunk}/${share}: ${chunk.join(',')}`);
      }
    }
  });

  it('puts equal lengths together up to maxChunk; with no padding allowed, only equal lengths share a call', () => {
    const chunks = planChunks([6, 6, 6, 6, 6, 9, 9], { maxChunk: 3, maxPaddingShare: 0 });
    assert.deepEqual(chunks, [
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('a generous padding share fills calls up to maxChunk', () => {
    const chunks = planChunks(lengths, { maxChunk: 6, maxPaddingShare: 100 });
    assert.deepEqual(
      chunks.map((c) => c.length),
      [6, 6, 6],
    );
  });

  it('maxChunk 0 is one call in the batch order; an empty batch is no call', () => {
    assert.deepEqual(planChunks([9, 3, 5], { maxChunk: 0, maxPaddingShare: 0.1 }), [[0, 1, 2]]);
    assert.deepEqual(planChunks([], { maxChunk: 4, maxPaddingShare: 0.1 }), []);
  });
});

describe('the accurate tier scores a chunked batch like posts scored one at a time', () => {
  it('every post gets its own result back, whatever call it ran in', async (t) => {
    const dir = resolveModelDir('accurate');
    const manifest = await loadManifest(dir);
    assert.ok(manifest.serving.lengthSortedChunk > 0, 'the accurate tier runs length-sorted chunks');
    const pool = new SentimentPool(dir, 1, { chunking: { maxChunk: 4, maxPaddingShare: 0.25 } });
    t.after(() => pool.close());
    const texts = [
      'I love this, best day ever!',
      'worst service I have ever had, never again',
      'the meeting is at 3pm',
      'not bad at all',
      'absolutely terrible, I want a refund now',
      'ok',
      'What a wonderful surprise from my friends tonight, thank you all so much',
      'the train is late again and nobody tells us anything, this is a disgrace',
      'new phone arrived',
      'so happy 😊',
      'I hate mondays',
      'The report will be published tomorrow morning at nine',
    ];
    const together = (await pool.run(texts)).probs;
    let labelsAgree = 0;
    let diff = 0;
    for (const [i, text] of texts.entries()) {
      const alone = (await pool.run([text])).probs;
      const row = together.subarray(i * 3, i * 3 + 3);
      const argmax = (p: ArrayLike<number>): number => [0, 1, 2].reduce((a, b) => (p[b]! > p[a]! ? b : a));
      if (argmax(row) === argmax(alone)) labelsAgree++;
      diff += [0, 1, 2].reduce((sum, k) => sum + Math.abs(row[k]! - alone[k]!), 0) / 3;
    }
    // int8 with dynamic activation scales: a post's probabilities move a little with its call companions
    // (models/README.md), but a result put back in the wrong place would move them by far more.
    assert.ok(labelsAgree >= texts.length - 1, `labels agree for ${labelsAgree} of ${texts.length}`);
    assert.ok(diff / texts.length < 0.05, `mean |Δp| ${diff / texts.length}`);
  });
});
