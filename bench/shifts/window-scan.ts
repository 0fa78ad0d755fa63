import { sampleStdDev } from '../../src/query/intervals.js';
import type { ChangeDetection, ChangeTest, ChangeTestInput } from '../../src/shifts/change-test.js';

export interface WindowScanOptions {
  /** Window lengths in buckets, ascending (the longest ≤ the detector's maxPendingBuckets). */
  readonly windows: readonly number[];
  /** |z| at or above which a window's mean differs from its baseline's. */
  readonly z: number;
  /** … and by at least this much (score units), so tiny but significant changes at high rates stay quiet. */
  readonly minEffect: number;
  /** Baseline buckets before each window. */
  readonly baselineBuckets: number;
  readonly minWindowPosts: number;
  readonly minStdDev: number;
}

/**
 * The alternative the bench measured against the CUSUM: at every closed bucket, a two-sample test
 * of the last w buckets against the `baselineBuckets` before them, for each w of a geometric grid:
 * z = (x̄_w − x̄_b) / (s_b·√(1/n_w + 1/n_b)) (the baseline's sd for both, so a window of two equal
 * scores cannot make z infinite); it fires on the window of largest |z| beyond the threshold. The
 * threshold is either Bonferroni's over every look of a week or calibrated by measurement.
 */
export class WindowScan implements ChangeTest {
  private next = 0;
  private start = 0;

  constructor(private readonly options: WindowScanOptions) {}

  readonly chartCount = 1;

  reset(nextBucket: number): void {
    this.next = nextBucket;
    this.start = nextBucket;
  }

  pendingFrom(): number {
    return this.next;
  }

  candidate(): number {
    return this.next;
  }

  update({ bucket, ring, levelFrom }: ChangeTestInput): ChangeDetection | null {
    this.next = bucket + 1;
    const { windows, z, minEffect, baselineBuckets, minWindowPosts, minStdDev } = this.options;
    let best: { z: number; from: number } | undefined;
    for (const w of windows) {
      const from = bucket + 1 - w;
      if (from < this.start) break;
      const win = ring.range(from, bucket + 1);
      if (win.n < minWindowPosts) continue;
      const base = ring.range(Math.max(levelFrom, from - baselineBuckets), from);
      if (base.n < 2) continue;
      const sd = Math.max(minStdDev, sampleStdDev(base.n, base.sum, base.sumOfSquares));
      const diff = win.sum / win.n - base.sum / base.n;
      const score = diff / (sd * Math.sqrt(1 / win.n + 1 / base.n));
      if (Math.abs(score) >= z && Math.abs(diff) >= minEffect && (best === undefined || Math.abs(score) > Math.abs(best.z))) best = { z: score, from };
    }
    return best === undefined ? null : { direction: best.z > 0 ? 'up' : 'down', changeBucket: best.from };
  }
}

/** Window lengths 1 … `longest` buckets, each about 1.4× the last. */
export function geometricWindows(longest: number): number[] {
  const out: number[] = [];
  for (let w = 1; w <= longest; w = Math.max(w + 1, Math.round(w * 1.4))) out.push(w);
  if (out[out.length - 1] !== longest) out.push(longest);
  return out;
}
