// The side-by-side table each benchmark prints: one row per figure, baseline and subject columns, their ratio.

import { ratio } from './format.js';

export interface Figure {
  readonly label: string;
  readonly baseline: number;
  readonly subject: number;
  readonly format: (value: number) => string;
  /** Leave the ratio out where it means nothing (a count of different things, a signed offset). */
  readonly noRatio?: boolean;
}

export interface Comparison {
  readonly baselineName: string;
  readonly subjectName: string;
  readonly figures: readonly Figure[];
}

/** Aligned columns: labels left, figures right; the ratio column is subject ÷ baseline. */
export function renderComparison(c: Comparison): string {
  const header = ['', c.baselineName, c.subjectName, 'ratio'];
  const rows = c.figures.map((f) => [
    f.label,
    f.format(f.baseline),
    f.format(f.subject),
    f.noRatio === true ? '' : ratio(f.subject, f.baseline),
  ]);
  return renderRows(header, rows);
}

/** Any table: first column left-aligned, the rest right-aligned, two spaces between columns. */
export function renderRows(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const pad = (s: string, w: number, left: boolean): string => {
    const fill = ' '.repeat(Math.max(0, w - [...s].length));
    return left ? s + fill : fill + s;
  };
  return all.map((r) => r.map((cell, i) => pad(cell, widths[i] as number, i === 0)).join('  ').trimEnd()).join('\n') + '\n';
}
