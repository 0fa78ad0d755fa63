/**
 * Scores a labelled set through the analyze stage's own transform (SentimentTransform over the
 * Piscina inference pool), so the numbers are those of the code that runs in production.
 */
import { LABELS, type DeadLetter, type Post } from '../contract/index.js';
import type { DeadLetterSink, Transform } from '../pipeline/component.js';
import type { ScoredPost } from '../contract/index.js';
import type { LabelledSet } from './datasets.js';
import { score, type Scores } from './accuracy.js';

export interface EvalResult extends Scores {
  readonly model: string;
  readonly format: string;
  readonly mapping: string;
  readonly postsPerSecond: number;
  readonly seconds: number;
  readonly batchSize: number;
  /** Posts not scored (empty text, or dead-lettered by the stage), with the reasons. */
  readonly skipped: number;
  readonly skipReasons: Record<string, number>;
}

/** Dead letters kept in memory, counted by reason. */
export class CountingMemoryDeadLetters implements DeadLetterSink {
  readonly reasons: Record<string, number> = {};
  async write(letters: readonly DeadLetter[]): Promise<void> {
    for (const l of letters) this.reasons[l.reason] = (this.reasons[l.reason] ?? 0) + 1;
  }
  async close(): Promise<void> {}
}

/**
 * Runs `posts` through `transform` in batches of `batchSize` taken in order, `inFlight` batches at
 * a time (as the analyze stage keeps one batch per worker in flight); scored posts by id. A post
 * the stage dead-lettered is absent.
 */
export async function scoreBatches(
  posts: readonly Post[],
  transform: Transform<Post, ScoredPost>,
  batchSize: number,
  inFlight: number,
): Promise<Map<string, ScoredPost>> {
  const scored = new Map<string, ScoredPost>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < posts.length) {
      const items = posts.slice(next, next + batchSize);
      next += items.length;
      const out = await transform.apply({ items, ack: () => {} });
      for (const s of out.items) scored.set(s.id, s);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, lane));
  return scored;
}

export function toPost(text: string, i: number, now: number): Post {
  return { id: String(i + 1), text, createdAt: new Date(now).toISOString(), lang: 'en', topics: ['eval'], ingestedAt: now };
}

/**
 * Runs `set` through `transform` in batches of `batchSize`, `inFlight` batches at a time (as the
 * analyze stage keeps one batch per worker in flight). Throughput is measured over the scoring only.
 */
export async function evaluateSet(opts: {
  readonly set: LabelledSet;
  readonly transform: Transform<Post, ScoredPost>;
  readonly modelId: string;
  readonly batchSize: number;
  readonly inFlight: number;
  readonly deadLetters: CountingMemoryDeadLetters;
}): Promise<EvalResult> {
  const { set, transform, batchSize, inFlight } = opts;
  const now = Date.now();
  const skipReasons: Record<string, number> = {};
  const posts: Post[] = [];
  const gold = new Map<string, number>();
  set.texts.forEach((text, i) => {
    if (text.trim() === '') {
      skipReasons.empty_text = (skipReasons.empty_text ?? 0) + 1;
      return;
    }
    const p = toPost(text, i, now);
    posts.push(p);
    gold.set(p.id, set.labels[i]!);
  });
  const predicted = new Map<string, number>();
  const started = performance.now();
  for (const [id, s] of await scoreBatches(posts, transform, batchSize, inFlight)) predicted.set(id, LABELS.indexOf(s.label));
  const seconds = (performance.now() - started) / 1000;
  for (const [reason, n] of Object.entries(opts.deadLetters.reasons)) skipReasons[reason] = (skipReasons[reason] ?? 0) + n;
  const g: number[] = [];
  const p: number[] = [];
  for (const [id, y] of gold) {
    const yhat = predicted.get(id);
    if (yhat === undefined) continue;
    g.push(y);
    p.push(yhat);
  }
  const skipped = set.texts.length - g.length;
  return {
    ...score(g, p),
    model: opts.modelId,
    format: set.format,
    mapping: set.mapping,
    postsPerSecond: posts.length / seconds,
    seconds,
    batchSize,
    skipped,
    skipReasons,
  };
}

/** Scores a set with a baseline function (main thread, one post at a time). */
export function evaluateBaseline(set: LabelledSet, name: string, scorer: (text: string) => number): EvalResult {
  const started = performance.now();
  const p = set.texts.map(scorer);
  const seconds = (performance.now() - started) / 1000;
  return {
    ...score(set.labels, p),
    model: name,
    format: set.format,
    mapping: set.mapping,
    postsPerSecond: set.texts.length / seconds,
    seconds,
    batchSize: 1,
    skipped: 0,
    skipReasons: {},
  };
}

export function formatResult(r: EvalResult, labels: readonly string[] = LABELS): string {
  const pct = (x: number): string => (100 * x).toFixed(1);
  const w = Math.max(...labels.map((l) => l.length), 8);
  const lines = [
    `model ${r.model} on ${r.format} (${r.n} posts${r.skipped ? `, ${r.skipped} skipped: ${JSON.stringify(r.skipReasons)}` : ''})`,
    `labels: ${r.mapping}`,
    `accuracy      ${r.accuracy.toFixed(4)}`,
    `macro-recall  ${r.macroRecall.toFixed(4)}`,
    `recall        ${labels.map((l, i) => `${l} ${r.recall[i]!.toFixed(4)}`).join('  ')}`,
    `confusion (rows gold, columns predicted):`,
    `  ${''.padEnd(w)} ${labels.map((l) => l.padStart(w)).join(' ')}`,
    ...r.confusion.map((row, i) => `  ${labels[i]!.padEnd(w)} ${row.map((c) => String(c).padStart(w)).join(' ')}   (${pct(r.recall[i]!)}% right)`),
    `throughput    ${r.postsPerSecond.toFixed(0)} posts/s (${r.seconds.toFixed(2)} s, batches of ${r.batchSize})`,
  ];
  return lines.join('\n');
}
