// How figures are written: durations from microseconds to seconds, counts, rates, sizes, ratios.

/** `38 µs`, `0.41 ms`, `7.3 ms`, `412 ms`, `1.51 s`: three significant figures at most. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 0.1) return `${sign}${Math.round(a * 1000)} µs`;
  if (a < 1) return `${sign}${a.toFixed(2)} ms`;
  if (a < 10) return `${sign}${a.toFixed(1)} ms`;
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  return `${sign}${(a / 1000).toFixed(2)} s`;
}

/** `100,000`. */
export function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** `12,345 /s`. */
export function rate(perSecond: number): string {
  return Number.isFinite(perSecond) ? `${count(perSecond)} /s` : '-';
}

/** `48.2 MB` (10^6 bytes, as `ps` and /proc's kB are read by people), signed when asked: `+0.4 MB`. */
export function megabytes(bytes: number, signed = false): string {
  if (!Number.isFinite(bytes)) return '-';
  // Rounded first, so a few kB either way reads 0.0 MB, not -0.0 MB.
  const mb = Math.round(bytes / 1e5) / 10 || 0;
  return `${signed && mb > 0 ? '+' : ''}${mb.toFixed(1)} MB`;
}

/**
 * subject ÷ baseline as `×0.42`; `-` when it means nothing (no baseline figure, or 0 against 0), and `×∞`
 * for something against nothing.
 */
export function ratio(subject: number, baseline: number): string {
  if (!Number.isFinite(subject) || !Number.isFinite(baseline)) return '-';
  if (baseline === 0) return subject === 0 ? '-' : '×∞';
  const r = subject / baseline;
  return `×${r >= 100 ? Math.round(r) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}`;
}
