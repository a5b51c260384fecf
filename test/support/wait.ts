// Polling until a condition holds, with a timeout that says what was awaited and what was last seen.

import { inspect } from 'node:util';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Named in the timeout error: "timed out after 5000 ms waiting for <what>". */
  readonly what: string;
}

/**
 * Calls fn until it returns something other than undefined or false, and returns that.
 * A throwing fn counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 50, what }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } | null = null;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const seen =
    last === null
      ? 'nothing'
      : 'error' in last
        ? `error: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`
        : `value: ${inspect(last.value)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${seen}`);
}
