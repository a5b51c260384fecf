// Summaries of a phase (rate, counts, percentiles, come-back times) and the side-by-side table the demo prints.

import { percentile } from '../test/support/figures.js';
import type { LoadResult } from '../test/support/load.js';

/** One instance's restart: from `supervisorctl restart` until HAProxy showed it UP again. */
export interface BackInService {
  readonly program: string;
  readonly ms: number;
}

export interface PhaseStats {
  readonly name: string;
  readonly durationMs: number;
  /** Every request (failed ones too) divided by the phase length. */
  readonly perSecond: number;
  readonly failed: number;
  readonly cold: number;
  readonly slow: number;
  /** Share (0..1) of the clients' time spent waiting on those slow answers: a client sends nothing meanwhile. */
  readonly slowShare: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** In restart order. */
  readonly back: readonly BackInService[];
}

export function summarize(
  name: string,
  result: LoadResult,
  back: readonly BackInService[],
  opts: { readonly slowMs: number; readonly clients: number },
): PhaseStats {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const slow = sorted.filter((ms) => ms > opts.slowMs);
  const clientMs = opts.clients * result.durationMs;
  return {
    name,
    durationMs: result.durationMs,
    perSecond: result.durationMs > 0 ? (result.requests / result.durationMs) * 1000 : Number.NaN,
    failed: result.failed,
    cold: result.cold,
    slow: slow.length,
    slowShare: clientMs > 0 ? slow.reduce((sum, ms) => sum + ms, 0) / clientMs : Number.NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    back,
  };
}

/** `0.8 ms`, `12 ms`, `1510 ms`: one decimal only where it matters. */
export function formatMs(ms: number): string {
  if (Number.isNaN(ms)) return '-';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** `4.3 s`: come-back times and phase lengths, to a tenth of a second. */
export function formatSeconds(ms: number): string {
  return Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

/** `35%`, `0%`: a share of time, to the percent. */
export function formatShare(share: number): string {
  return Number.isNaN(share) ? '-' : `${Math.round(share * 100)}%`;
}

/** `1 s`, `500 ms`: a threshold as configured. */
export function formatLimit(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length;

/**
 * One column per phase, one row per figure; the come-back time gets a row per program, in restart order
 * (the union over phases, `-` where a phase has none). Labels left-aligned, figures right-aligned.
 */
export function renderTable(phases: readonly PhaseStats[], slowMs: number): string {
  const rows: (readonly string[])[] = [
    ['', ...phases.map((p) => p.name)],
    ['phase length', ...phases.map((p) => formatSeconds(p.durationMs))],
    ['requests per second', ...phases.map((p) => (Number.isNaN(p.perSecond) ? '-' : String(Math.round(p.perSecond))))],
    ['failed', ...phases.map((p) => String(p.failed))],
    ['answered cold', ...phases.map((p) => String(p.cold))],
    [`slower than ${formatLimit(slowMs)}`, ...phases.map((p) => String(p.slow))],
    [`client time on pages over ${formatLimit(slowMs)}`, ...phases.map((p) => formatShare(p.slowShare))],
    ['p50', ...phases.map((p) => formatMs(p.p50))],
    ['p99', ...phases.map((p) => formatMs(p.p99))],
    ['max', ...phases.map((p) => formatMs(p.max))],
    ['back in service after restart', ...phases.map(() => '')],
  ];
  const programs = [...new Set(phases.flatMap((p) => p.back.map((b) => b.program)))];
  for (const program of programs) {
    rows.push([`  ${program}`, ...phases.map((p) => formatSeconds(p.back.find((b) => b.program === program)?.ms ?? Number.NaN))]);
  }
  const widths = (rows[0] as readonly string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join('   ')
      .trimEnd();
  return rows.map(line).join('\n') + '\n';
}
