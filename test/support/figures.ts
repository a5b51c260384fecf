// What the demo and the benchmarks print: word-wrapped paragraphs, nearest-rank percentiles, failure counts.

const WIDTH = 100;

/** Greedy word wrap, so a paragraph reads well in a terminal. */
export function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out.join('\n');
}

/** Paragraphs of a report, each wrapped at WIDTH, one blank line between them. */
export function paragraphs(...texts: readonly string[]): string {
  return texts.map((t) => wrap(t, WIDTH)).join('\n\n') + '\n';
}

/** Nearest-rank percentile (p in 0..100) of values sorted ascending; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** `HTTP 503 ×3, ECONNRESET ×1`, most frequent first; '' when nothing failed. */
export function formatFailures(failures: Readonly<Record<string, number>>): string {
  return Object.entries(failures)
    .sort((a, b) => b[1] - a[1])
    .map(([why, n]) => `${why} ×${n}`)
    .join(', ');
}
