// Durations as the config writes them ("500ms", "2s", "1.5s", "5m"), turned into milliseconds.

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** Node's timers overflow above 2^31-1 ms and then fire after 1 ms; a longer duration would mean "at once". */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const EXPECTED = 'expected a duration like 500ms, 2s or 5m';

/**
 * Milliseconds in `text` (rounded to a whole millisecond). A unit is required: a bare "5" could mean
 * seconds or milliseconds, and guessing wrong is a 1000× error. Throws a plain Error saying what is expected.
 */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) throw new Error(`'${text}': ${EXPECTED}`);
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
  if (ms > MAX_DURATION_MS) throw new Error(`'${text}': too long (at most 24 days)`);
  return ms;
}
