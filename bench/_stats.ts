/**
 * Small statistics helpers: medians over repetitions, percentiles over
 * latency samples.
 *
 * @module
 */

/** A figure summarised over its repetitions. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

/** Summarises repetition values: median, min and max. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) {
    return { median: NaN, min: NaN, max: NaN, samples: [] };
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    samples: [...samples],
  };
}

/** The p-th percentile (0–100, nearest rank) of values sorted ascending. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Sorts a copy of latency samples for {@link percentile}. */
export function sortedCopy(
  values: ArrayLike<number>,
  count?: number,
): Float64Array {
  const n = count ?? values.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = values[i]!;
  return out.sort();
}
