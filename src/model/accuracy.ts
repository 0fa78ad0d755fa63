import { CrowdpulseError } from '../errors.js';

/** Classification metrics of the model card: accuracy, per-class recall, macro-recall, confusion matrix. */
export interface Scores {
  readonly n: number;
  readonly accuracy: number;
  /** Recall of each class, in label order. */
  readonly recall: number[];
  /** Mean of the per-class recalls (SemEval-2017 4A / TweetEval's metric). */
  readonly macroRecall: number;
  /** confusion[gold][predicted], counts. */
  readonly confusion: number[][];
}

export function score(gold: readonly number[], predicted: readonly number[], classes = 3): Scores {
  if (gold.length !== predicted.length) throw new CrowdpulseError('CP_DATASET_INVALID', `${gold.length} gold labels but ${predicted.length} predictions`);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let hits = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!;
    const p = predicted[i]!;
    if (!(g >= 0 && g < classes) || !(p >= 0 && p < classes))
      throw new CrowdpulseError('CP_DATASET_INVALID', `label out of range at ${i}: gold ${g}, predicted ${p}`);
    confusion[g]![p]! += 1;
    if (g === p) hits++;
  }
  const recall = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : row[c]! / total;
  });
  return { n: gold.length, accuracy: gold.length ? hits / gold.length : 0, recall, macroRecall: recall.reduce((a, b) => a + b, 0) / classes, confusion };
}

/** Index of the largest of three probabilities (first wins ties). */
export function argmax3(p: ArrayLike<number>, offset = 0): number {
  const a = p[offset]!;
  const b = p[offset + 1]!;
  const c = p[offset + 2]!;
  return a >= b ? (a >= c ? 0 : 2) : b >= c ? 1 : 2;
}
