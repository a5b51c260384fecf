// Latency summaries for the benchmarks: count, mean and nearest-rank percentiles up to p99.9 and max.

import { percentile } from '../test/support/figures.js';

export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Summarizes values (any order; NaN figures for none). Sorts a typed copy: a million samples sort in ~0.1 s. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  // percentile() takes a readonly number[]; a typed array is read the same way, by index and length.
  const asArray = sorted as unknown as readonly number[];
  return {
    n: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(asArray, 50),
    p99: percentile(asArray, 99),
    p999: percentile(asArray, 99.9),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** How many values are above `limit`. */
export function countAbove(values: ArrayLike<number>, limit: number): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > limit) n++;
  return n;
}
