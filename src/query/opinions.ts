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
  /** The original's score and label index, when the original is among the rows (-1: it is not). */
  originalScore: number;
  originalLabel: -1 | 0 | 1 | 2;
  /** Rows per label: negative, neutral, positive. */
  negative: number;
  neutral: number;
  positive: number;
}

interface Group {
  readonly topic: string;
  readonly bucket: number;
  readonly clusters: Map<string, Cluster>;
  firstAt: number;
  lastAt: number;
}

const LABEL_INDEX: Readonly<Record<Label, 0 | 1 | 2>> = { negative: 0, neutral: 1, positive: 2 };

const byTimeThenId = (a: OpinionRow, b: OpinionRow): number => a.at - b.at || (a.postId < b.postId ? -1 : a.postId > b.postId ? 1 : 0);

export class OpinionAggregator {
  readonly #groups = new Map<string, Group>();
  readonly #capped = new Map<string, OpinionRow[]>();
  #lastGroup: Group | undefined;
  #lastWindow = Number.NaN;
  #lastPrefix = '';

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
    // Rows come grouped (a rollup's window is one group): the last group is the likely one.
    let group = this.#lastGroup;
    if (group === undefined || group.topic !== row.topic || group.bucket !== row.bucket) {
      const key = `${row.bucket}\u0000${row.topic}`;
      group = this.#groups.get(key);
      if (!group) this.#groups.set(key, (group = { topic: row.topic, bucket: row.bucket, clusters: new Map(), firstAt: row.at, lastAt: row.at }));
      this.#lastGroup = group;
    }
    if (row.at < group.firstAt) group.firstAt = row.at;
    if (row.at > group.lastAt) group.lastAt = row.at;
    const retweet = row.refKind === 'retweeted';
    // Weighted: a retweet joins its original within one opinion window (amplification.ts).
    const opinion = this.mode === 'weighted' ? `${this.#windowPrefix(row.at)}${retweet ? row.refId : row.postId}` : row.postId;
    let cluster = group.clusters.get(opinion);
    if (!cluster) group.clusters.set(opinion, (cluster = { w: 0, sum: 0, originalScore: 0, originalLabel: -1, negative: 0, neutral: 0, positive: 0 }));
    cluster.w += 1;
    cluster.sum += row.score;
    cluster[row.label] += 1;
    if (!retweet) {
      cluster.originalScore = row.score;
      cluster.originalLabel = LABEL_INDEX[row.label];
    }
  }

  /** `<opinion window start>\u0000`, the start of a weighted opinion's key (the last one kept: rows come in runs of one window). */
  #windowPrefix(at: number): string {
    const window = opinionWindowOf(at);
    if (window !== this.#lastWindow) {
      this.#lastWindow = window;
      this.#lastPrefix = `${window}\u0000`;
    }
    return this.#lastPrefix;
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
        const s = c.originalLabel !== -1 ? c.originalScore : c.sum / c.w;
        n += 1;
        sumOfWeights += c.w;
        sumOfSquaredWeights += c.w * c.w;
        weightedSum += c.w * s;
        weightedSumOfSquares += c.w * s * s;
        const originalLabel = c.originalLabel;
        if (originalLabel !== -1) weights[originalLabel] += c.w;
        else {
          weights[0] += c.negative;
          weights[1] += c.neutral;
          weights[2] += c.positive;
        }
      }
      const weightByLabel = Object.fromEntries(LABELS.map((l) => [l, weights[LABEL_INDEX[l]]])) as Record<Label, number>;
      return { topic, bucket, stats: { n, sumOfWeights, sumOfSquaredWeights, weightedSum, weightedSumOfSquares, weightByLabel }, firstAt, lastAt };
    });
  }
}
