// Summaries of load results (counts, percentiles) and the aligned side-by-side table the demo prints.

/** What a load run saw; latencies in ms, one per request that got an answer or an error. */
export interface LoadResult {
  readonly requests: number;
  readonly failed: number;
  readonly latenciesMs: readonly number[];
  /** Why requests failed: `HTTP 503`, `ECONNRESET`, `timeout`…, with counts. */
  readonly failures: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

export interface PhaseStats {
  readonly name: string;
  readonly requests: number;
  readonly failed: number;
  readonly slow: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile (p in 0..100) of values sorted ascending; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(name: string, result: LoadResult, slowMs: number): PhaseStats {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return {
    name,
    requests: result.requests,
    failed: result.failed,
    slow: sorted.filter((ms) => ms > slowMs).length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** `0.8 ms`, `12 ms`, `1510 ms`: one decimal only where it matters. */
export function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return '-';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Columns right-aligned under their headers, the first (phase name) left-aligned. */
export function renderTable(rows: readonly PhaseStats[], slowMs: number): string {
  const header = ['phase', 'requests', 'failed', `slow (>${slowMs >= 1000 ? `${slowMs / 1000} s` : `${slowMs} ms`})`, 'p50', 'p99', 'max'];
  const cells = rows.map((r) => [r.name, String(r.requests), String(r.failed), String(r.slow), formatMs(r.p50), formatMs(r.p99), formatMs(r.max)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]): string =>
    c
      .map((s, i) => (i === 0 ? s.padEnd(widths[i] as number) : s.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

/** `HTTP 503 ×3, ECONNRESET ×1`, most frequent first; '' when nothing failed. */
export function formatFailures(failures: Readonly<Record<string, number>>): string {
  return Object.entries(failures)
    .sort((a, b) => b[1] - a[1])
    .map(([why, n]) => `${why} ×${n}`)
    .join(', ');
}
