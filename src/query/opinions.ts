import { LABELS, type Label } from '../contract/index.js';
import { opinionWindowOf, type AmplificationMode } from './amplification.js';
import type { WeightedScoreStatistics } from './intervals.js';

/**
 * Rows → opinions → weighted sums per (topic, bucket), in code: what the SQLite store computes in
 * SQL (src/sinks/sqlite/query.ts), for a store that hands over rows (InfluxDB: Flux 1.8 groups by
 * opinion at about 0.1 ms a row, pivoting is cheap). The same rules: with the author cap, an author's
 * earliest `cap` rows per (topic, bucket) are kept (unknown authors never capped); in weighted mode a
 * retweet joins the post it retweets; an opinion weighs its rows and is scored and labelled as the
 * original when the original is among them, else as the mean of its retweets.
 */
export interface OpinionRow {
  readonly topic: string;
  /** Bucket start, epoch ms (0 for a summary over the whole range). */
  readonly bucket: number;
  /** The post's time, epoch ms. */
  readonly at: number;
  readonly postId: string;
  readonly score: number;
  readonly label: Label;
  /** '' when unknown. */
  readonly authorId: string;
  /** '' for an original. */
  readonly refKind: string;
  readonly refId: string;
}

export interface OpinionGroup {
  readonly topic: string;
  readonly bucket: number;
  readonly stats: WeightedScoreStatistics;
  readonly firstAt: number;
  readonly lastAt: number;
}

interface Cluster {
  w: number;
  sum: number;
  original: { score: number; label: Label } | undefined;
  byLabel: [number, number, number];
}

const LABEL_INDEX: Readonly<Record<Label, 0 | 1 | 2>> = { negative: 0, neutral: 1, positive: 2 };

const byTimeThenId = (a: OpinionRow, b: OpinionRow): number => a.at - b.at || (a.postId < b.postId ? -1 : a.postId > b.postId ? 1 : 0);

export class OpinionAggregator {
  readonly #groups = new Map<string, { topic: string; bucket: number; clusters: Map<string, Cluster>; firstAt: number; lastAt: number }>();
  readonly #capped = new Map<string, OpinionRow[]>();

  constructor(
    private readonly mode: AmplificationMode,
    private readonly cap: number | undefined,
  ) {}

  add(row: OpinionRow): void {
    if (this.cap !== undefined && row.authorId !== '') {
      const key = `${row.bucket}\u0000${row.topic}\u0000${row.authorId}`;
      const rows = this.#capped.get(key);
      if (rows) rows.push(row);
      else this.#capped.set(key, [row]);
      return;
    }
    this.#count(row);
  }

  #count(row: OpinionRow): void {
    const key = `${row.bucket}\u0000${row.topic}`;
    let group = this.#groups.get(key);
    if (!group) this.#groups.set(key, (group = { topic: row.topic, bucket: row.bucket, clusters: new Map(), firstAt: row.at, lastAt: row.at }));
    group.firstAt = Math.min(group.firstAt, row.at);
    group.lastAt = Math.max(group.lastAt, row.at);
    const retweet = row.refKind === 'retweeted';
    // Weighted: a retweet joins its original within one opinion window (amplification.ts).
    const opinion = this.mode === 'weighted' ? `${opinionWindowOf(row.at)}\u0000${retweet ? row.refId : row.postId}` : row.postId;
    let cluster = group.clusters.get(opinion);
    if (!cluster) group.clusters.set(opinion, (cluster = { w: 0, sum: 0, original: undefined, byLabel: [0, 0, 0] }));
    cluster.w += 1;
    cluster.sum += row.score;
    cluster.byLabel[LABEL_INDEX[row.label]] += 1;
    if (!retweet) cluster.original = { score: row.score, label: row.label };
  }

  /** The groups' sums, in no particular order. */
  groups(): OpinionGroup[] {
    for (const rows of this.#capped.values()) for (const row of rows.sort(byTimeThenId).slice(0, this.cap)) this.#count(row);
    this.#capped.clear();
    return [...this.#groups.values()].map(({ topic, bucket, clusters, firstAt, lastAt }) => {
      let n = 0;
      let sumOfWeights = 0;
      let sumOfSquaredWeights = 0;
      let weightedSum = 0;
      let weightedSumOfSquares = 0;
      const weights: [number, number, number] = [0, 0, 0];
      for (const c of clusters.values()) {
        const s = c.original ? c.original.score : c.sum / c.w;
        n += 1;
        sumOfWeights += c.w;
        sumOfSquaredWeights += c.w * c.w;
        weightedSum += c.w * s;
        weightedSumOfSquares += c.w * s * s;
        if (c.original) weights[LABEL_INDEX[c.original.label]] += c.w;
        else {
          weights[0] += c.byLabel[0];
          weights[1] += c.byLabel[1];
          weights[2] += c.byLabel[2];
        }
      }
      const weightByLabel = Object.fromEntries(LABELS.map((l) => [l, weights[LABEL_INDEX[l]]])) as Record<Label, number>;
      return { topic, bucket, stats: { n, sumOfWeights, sumOfSquaredWeights, weightedSum, weightedSumOfSquares, weightByLabel }, firstAt, lastAt };
    });
  }
}
