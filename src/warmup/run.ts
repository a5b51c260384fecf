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
 * Resolves `passed: true` once every URL has answered an accepted status, in order; `passed: false` when the
 * deadline (from the call) passes first — the caller applies on_deadline. Rejects with the signal's reason
 * when aborted: a newer event for the process superseded this warm-up, which is not a failure.
 */
export async function runWarmup(
  spec: WarmupSpec,
  urls: readonly URL[],
  deps: WarmupDeps,
  signal: AbortSignal,
): Promise<WarmupOutcome> {
  signal.throwIfAborted();
  const { probe, clock, onProgress } = deps;
  const started = clock.now();
  const deadline = started + spec.deadlineMs;
  let tries = 0;
  let lastError: string | null = null;
  const outcome = (passed: boolean): WarmupOutcome => ({ passed, tries, elapsedMs: clock.now() - started, lastError });

  for (const url of urls) {
    // A failure retries this URL, not the whole list: the earlier ones have already warmed their pages.
    for (let attempt = 1; ; attempt++) {
      const left = deadline - clock.now();
      if (left <= 0) return outcome(false);
      tries++;
      // The probe may not outlive the deadline, so a hanging request cannot hold the server past it.
      const timeoutMs = Math.min(spec.timeoutMs, left);
      // Raced against the signal too, so cancellation is prompt even if a probe ignores its signal.
      const result = await untilAborted(probe({ url, headers: spec.headers, timeoutMs, signal }, spec.expect), signal);
      onProgress?.({ url: url.href, attempt, result });
      if (result.ok) break;
      // A try the deadline cut short says nothing new: keep the reason of the last real failure.
      const cutByDeadline = timeoutMs < spec.timeoutMs && result.status === null && result.error.startsWith('timeout');
      if (!cutByDeadline || lastError === null) lastError = `${url.href}: ${result.error}`;
      // Sleep no later than the deadline, so the outcome is reported when it passes, not an interval after.
      const wait = Math.min(spec.intervalMs, deadline - clock.now());
      if (wait > 0) await clock.sleep(wait, signal);
    }
  }
  return outcome(true);
}
