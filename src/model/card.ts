/**
 * The numbers of models/README.md, measured in one run from the committed ONNX files:
 * every tier and both lexicon baselines on TweetEval val/test and each eval-only set, plus the
 * throughput of each tier through the analyze stage at several batch sizes.
 *   npm run model:eval        (= crowdpulse eval --card --out models/card-results.json)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Post, ScoredPost } from '../contract/index.js';
import type { Transform } from '../pipeline/component.js';
import { BASELINES, baselineScorer } from './baselines.js';
import { readLabelled, type LabelledSet } from './datasets.js';
import { CountingMemoryDeadLetters, evaluateBaseline, evaluateSet, type EvalResult } from './evaluate.js';
import { CrowdpulseError } from '../errors.js';

export const CARD_SETS: ReadonlyArray<{ readonly name: string; readonly path: string }> = [
  { name: 'TweetEval val', path: 'eval/tweeteval-sentiment/val_text.txt' },
  { name: 'TweetEval test', path: 'eval/tweeteval-sentiment/test_text.txt' },
  { name: 'VADER tweets', path: 'eval-only/vader-tweets/tweets_GroundTruth.txt' },
  { name: 'Sentiment140 test', path: 'eval-only/sentiment140-test/testdata.manual.2009.06.14.2col.csv' },
  { name: 'Sanders', path: 'eval-only/sanders/full-corpus.csv' },
  { name: 'US airline', path: 'eval-only/us-airline/Tweets.csv' },
];

export const CARD_BATCH_SIZES: Readonly<Record<string, readonly number[]>> = { fast: [16, 128, 512, 2048], accurate: [1, 8, 32, 128] };
/** Posts of TweetEval test used for the throughput rows. */
export const THROUGHPUT_POSTS = 4096;

export interface Stage {
  readonly transform: Transform<Post, ScoredPost>;
  readonly modelId: string;
  readonly threads: number;
  readonly maxBatch: number;
  readonly deadLetters: CountingMemoryDeadLetters;
}

export interface CardResult {
  readonly sets: Array<{ set: string; results: EvalResult[] }>;
  readonly throughput: Array<{ model: string; batchSize: number; threads: number; postsPerSecond: number; posts: number }>;
}

export function cardSets(dataRoot: string): Array<{ name: string; set: LabelledSet }> {
  return CARD_SETS.map(({ name, path }) => {
    const file = join(dataRoot, path);
    if (!existsSync(file)) throw new CrowdpulseError('CP_DATASET_INVALID', `${file} not found: set CROWDPULSE_DATA to the labelled data directory`);
    return { name, set: readLabelled(file) };
  });
}

export async function runCard(
  dataRoot: string,
  tiers: readonly string[],
  openStage: (tier: string) => Promise<Stage>,
  progress: (line: string) => void,
): Promise<CardResult> {
  const sets = cardSets(dataRoot);
  const bySet = new Map<string, EvalResult[]>(sets.map(({ name }) => [name, []]));
  const throughput: CardResult['throughput'] = [];
  for (const tier of tiers) {
    const stage = await openStage(tier);
    try {
      for (const { name, set } of sets) {
        const r = await evaluateSet({
          set,
          transform: stage.transform,
          modelId: stage.modelId,
          batchSize: stage.maxBatch,
          inFlight: stage.threads,
          deadLetters: stage.deadLetters,
        });
        bySet.get(name)!.push(r);
        progress(`${stage.modelId} ${name}: macro-recall ${r.macroRecall.toFixed(4)} (${r.postsPerSecond.toFixed(0)} posts/s)`);
      }
      const test = sets.find((s) => s.name === 'TweetEval test')!.set;
      const sample: LabelledSet = { ...test, texts: test.texts.slice(0, THROUGHPUT_POSTS), labels: test.labels.slice(0, THROUGHPUT_POSTS) };
      for (const batchSize of CARD_BATCH_SIZES[tier] ?? [stage.maxBatch]) {
        const r = await evaluateSet({
          set: sample,
          transform: stage.transform,
          modelId: stage.modelId,
          batchSize,
          inFlight: stage.threads,
          deadLetters: stage.deadLetters,
        });
        throughput.push({ model: stage.modelId, batchSize, threads: stage.threads, postsPerSecond: r.postsPerSecond, posts: r.n });
        progress(`${stage.modelId} batch ${batchSize}: ${r.postsPerSecond.toFixed(0)} posts/s`);
      }
    } finally {
      await stage.transform.close();
    }
  }
  for (const b of BASELINES) {
    const scorer = baselineScorer(b);
    for (const { name, set } of sets) {
      const r = evaluateBaseline(set, b === 'vader' ? 'VADER (npm vader-sentiment)' : 'AFINN (npm sentiment)', scorer);
      bySet.get(name)!.push(r);
      progress(`${b} ${name}: macro-recall ${r.macroRecall.toFixed(4)}`);
    }
  }
  return { sets: sets.map(({ name }) => ({ set: name, results: bySet.get(name)! })), throughput };
}

export function cardMarkdown(card: CardResult): string {
  const f = (x: number): string => x.toFixed(3);
  const out: string[] = ['| set | model | macro-recall | accuracy | recall neg / neu / pos | n |', '|---|---|---|---|---|---|'];
  for (const { set, results } of card.sets) {
    for (const r of results) out.push(`| ${set} | ${r.model} | **${f(r.macroRecall)}** | ${f(r.accuracy)} | ${r.recall.map(f).join(' / ')} | ${r.n} |`);
  }
  out.push('', '| model | batch size | worker threads | posts/s |', '|---|---|---|---|');
  for (const t of card.throughput) out.push(`| ${t.model} | ${t.batchSize} | ${t.threads} | ${t.postsPerSecond.toFixed(0)} |`);
  const conf = card.sets.find((s) => s.set === 'TweetEval test');
  if (conf) {
    out.push('', 'TweetEval test confusion matrices (rows gold negative/neutral/positive, columns predicted):', '');
    for (const r of conf.results) out.push(`- ${r.model}: ${r.confusion.map((row) => `[${row.join(', ')}]`).join(' ')}`);
  }
  return out.join('\n');
}
