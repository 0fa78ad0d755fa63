/** Order statistics used by every bench figure. */

/** The q-quantile (0..1) of `values` by linear interpolation between closest ranks; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return quantileSorted(sorted, q);
}

export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** A figure over repeats: the median with the smallest and largest value, and every sample. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function spread(samples: readonly number[]): Spread {
  const finite = samples.filter((x) => Number.isFinite(x));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples: [...samples] };
  const sorted = [...finite].sort((a, b) => a - b);
  return { median: quantileSorted(sorted, 0.5), min: sorted[0] as number, max: sorted[sorted.length - 1] as number, samples: [...samples] };
}

/** Spreads of every numeric field present in all of `runs` (fields missing from a run are skipped). */
export function spreadsOf<K extends string>(runs: readonly Partial<Record<K, number>>[], keys: readonly K[]): Partial<Record<K, Spread>> {
  const out: Partial<Record<K, Spread>> = {};
  for (const k of keys) {
    const xs = runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
    if (xs.length > 0) out[k] = spread(xs);
  }
  return out;
}

/**
 * Quantile from a Prometheus cumulative histogram (le → count), interpolating linearly inside the
 * bucket as histogram_quantile() does. Resolution is the bucket width: say so where it is quoted.
 */
export function histogramQuantile(buckets: readonly { readonly le: number; readonly count: number }[], q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
