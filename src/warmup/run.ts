// The warm-up loop: probe each URL in order until it passes, retrying every interval, within one deadline.

import type { Clock } from '../clock.js';
import type { Probe, ProbeResult } from './probe.js';
import type { WarmupSpec } from './types.js';

export interface WarmupProgress {
  url: string;
  attempt: number;
  result: ProbeResult;
}

export type WarmupOutcome = { passed: boolean; tries: number; elapsedMs: number; lastError: string | null };

export interface WarmupDeps {
  probe: Probe;
  clock: Clock;
  onProgress?: (p: WarmupProgress) => void;
  /** Passed on to every probe: the app accepted a connection. */
  onConnect?: () => void;
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A refused connection means the app has not opened its port yet: try again soon, whatever `interval` is,
 * so that an instance is probed within this long of listening. Costs one failed connect per try.
 */
export const REFUSED_RETRY_MS = 100;

/** Whether the app's port answered this try (anything but a refused or unreachable connection). */
export function portAnswered(result: ProbeResult): boolean {
  return result.ok || result.connected;
}

/**
 * Resolves `passed: true` once every URL has answered an accepted status, fast enough (`maxTimeMs`) and
 * `passes` times in a row, in order; `passed: false` when the deadline (from the call) passes first — the
 * caller applies on_deadline. Rejects with the signal's reason when aborted: a newer event for the process
 * superseded this warm-up, which is not a failure.
 *
 * Pacing: a refused connection is retried after REFUSED_RETRY_MS; an answer that was accepted but slow, and a
 * pass that needs another in a row, at once (the app is serving; each answer warms it further); any other
 * failure (a 5xx, a timeout) after `intervalMs`.
 */
export async function runWarmup(
  spec: WarmupSpec,
  urls: readonly URL[],
  deps: WarmupDeps,
  signal: AbortSignal,
): Promise<WarmupOutcome> {
  signal.throwIfAborted();
  const { probe, clock, onProgress, onConnect } = deps;
  const started = clock.now();
  const deadline = started + spec.deadlineMs;
  let tries = 0;
  let lastError: string | null = null;
  const outcome = (passed: boolean): WarmupOutcome => ({ passed, tries, elapsedMs: clock.now() - started, lastError });

  for (const url of urls) {
    // A failure retries this URL, not the whole list: the earlier ones have already warmed their pages.
    let inARow = 0;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - clock.now();
      if (left <= 0) return outcome(false);
      tries++;
      // The probe may not outlive the deadline, so a hanging request cannot hold the server past it.
      const timeoutMs = Math.min(spec.timeoutMs, left);
      // Raced against the signal too, so cancellation is prompt even if a probe ignores its signal.
      const req = { url, headers: spec.headers, timeoutMs, signal, ...(onConnect === undefined ? {} : { onConnect }) };
      const answer = await untilAborted(probe(req, spec.expect), signal);
      const result = slowAsFailure(answer, spec.maxTimeMs);
      onProgress?.({ url: url.href, attempt, result });
      if (result.ok) {
        inARow++;
        if (inARow >= spec.passes) break;
        continue;
      }
      inARow = 0;
      // A try the deadline cut short says nothing new: keep the reason of the last real failure.
      const cutByDeadline = timeoutMs < spec.timeoutMs && result.status === null && result.error.startsWith('timeout');
      if (!cutByDeadline || lastError === null) lastError = `${url.href}: ${result.error}`;
      const pace = answer.ok ? 0 : result.connected ? spec.intervalMs : Math.min(REFUSED_RETRY_MS, spec.intervalMs);
      // Sleep no later than the deadline, so the outcome is reported when it passes, not an interval after.
      const wait = Math.min(pace, deadline - clock.now());
      if (wait > 0) await clock.sleep(wait, signal);
    }
  }
  return outcome(true);
}

/** An accepted answer slower than maxTimeMs is a cold page: a failure that says how slow it was. */
function slowAsFailure(result: ProbeResult, maxTimeMs: number | null): ProbeResult {
  if (!result.ok || maxTimeMs === null || result.ms <= maxTimeMs) return result;
  return { ok: false, status: result.status, error: `slow: ${result.ms}ms > max_time ${maxTimeMs}ms`, ms: result.ms, connected: true };
}
