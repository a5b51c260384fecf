// One warm-up from start to outcome: where the servers live (HAProxy's view), the retry loop, on_deadline.

import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import type { RuntimeApi } from '../haproxy/api.js';
import { serverKey, type ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { WarmupStatus } from '../reconcile/snapshot.js';
import type { Probe, ProbeResult } from './probe.js';
import { resolveRequests, type ProbeTarget, type WarmupSpec } from './spec.js';

interface WarmJob {
  /** group:process, for logs. */
  readonly process: string;
  readonly servers: readonly ServerRef[];
  readonly spec: WarmupSpec;
  /** Called once, at the first try whose connection the app accepted (its port answers). */
  readonly onPortAnswered?: () => void;
}

interface WarmDeps {
  /** One per stats socket; only read here. */
  readonly apis: readonly RuntimeApi[];
  readonly probe: Probe;
  readonly clock: Clock;
  readonly log: Logger;
}

/** How a warm-up ended: passed; deadline passed (ready anyway with on_deadline = ready); failed: something unexpected. */
type WarmStatus = Extract<WarmupStatus, 'passed' | 'forced-ready' | 'deadline' | 'failed'>;

export interface WarmResult {
  readonly status: WarmStatus;
  readonly tries: number;
  readonly elapsedMs: number;
  /** The reason of the last failed try. */
  readonly lastError: string | null;
}

/** Whether the servers go ready after a warm-up that ended so. */
export const goesReady = (status: WarmStatus): boolean => status === 'passed' || status === 'forced-ready';

/**
 * Rejects only with the signal's reason, when a newer event superseded the warm-up. Any other failure ends
 * it as `failed` and follows on_deadline like a deadline would, so no process stays "warming" forever.
 */
export async function warmUp(job: WarmJob, deps: WarmDeps, signal: AbortSignal): Promise<WarmResult> {
  const { clock, log } = deps;
  const { spec } = job;
  const started = clock.now();
  log.info('warm-up started', { process: job.process, requests: spec.requests.join(','), deadline_ms: spec.deadlineMs });
  let outcome: WarmResult;
  try {
    outcome = await probeAll(job, deps, signal, started + spec.deadlineMs);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    const ready = spec.onDeadline === 'ready';
    log.error('warm-up failed', {
      process: job.process,
      error: errorText(err),
      then: ready ? 'ready (on_deadline = ready)' : 'servers stay in maint',
    });
    return { status: ready ? 'forced-ready' : 'failed', tries: 0, elapsedMs: clock.now() - started, lastError: errorText(err) };
  }
  signal.throwIfAborted();
  const fields = { process: job.process, elapsed_ms: clock.now() - started, tries: outcome.tries };
  if (outcome.status === 'passed') {
    log.info('warm-up passed', fields);
    return outcome;
  }
  if (spec.onDeadline === 'ready') {
    log.warn('warm-up deadline passed; ready anyway (on_deadline = ready)', { ...fields, last_error: outcome.lastError });
    return { ...outcome, status: 'forced-ready' };
  }
  log.error('warm-up deadline passed; server stays in maint', { ...fields, last_error: outcome.lastError });
  return outcome;
}

async function probeAll(job: WarmJob, deps: WarmDeps, signal: AbortSignal, deadline: number): Promise<WarmResult> {
  const { clock, log, probe } = deps;
  const { spec } = job;
  const relative = spec.requests.some((r) => r.startsWith('/'));
  const targets = !relative ? [] : spec.address !== undefined ? [spec.address] : await waitForTargets(job, deps, signal, deadline);
  signal.throwIfAborted();
  if (targets === null) {
    return { status: 'deadline', tries: 0, elapsedMs: 0, lastError: 'haproxy never told the server address' };
  }
  // A try that fails like the one before says nothing new: debug, so a long warm-up is not a wall of lines.
  let lastFailure: string | null = null;
  // The port answers as soon as a connection is accepted: the first (cold) page need not be waited for.
  let answered = false;
  const onConnect = (): void => {
    if (answered) return;
    answered = true;
    job.onPortAnswered?.();
  };
  const onProgress = (p: WarmupProgress): void => {
    if (portAnswered(p.result)) onConnect();
    const error = p.result.ok ? null : p.result.error;
    const repeat = error !== null && error === lastFailure;
    lastFailure = error;
    (repeat ? log.debug : log.info)('warm-up probe', {
      process: job.process,
      url: p.url,
      attempt: p.attempt,
      ok: p.result.ok,
      status: p.result.status,
      error: error ?? undefined,
      ms: p.result.ms,
    });
  };
  const left = Math.max(0, deadline - clock.now());
  return runWarmup({ ...spec, deadlineMs: left }, resolveRequests(spec, targets), { probe, clock, onProgress, onConnect }, signal);
}

/** Relative warm-up paths go to the address HAProxy uses; asks until it is known or the deadline comes. */
async function waitForTargets(job: WarmJob, deps: WarmDeps, signal: AbortSignal, deadline: number): Promise<ProbeTarget[] | null> {
  let said: string | null = null;
  for (;;) {
    const found: TargetLookup = await findTargets(deps.apis, job.servers);
    if ('targets' in found) return found.targets;
    signal.throwIfAborted();
    if (said !== found.why) {
      deps.log.warn('warm-up waiting: haproxy does not tell the server address', {
        process: job.process,
        server: found.missing,
        cause: found.why,
      });
      said = found.why;
    }
    if (deps.clock.now() + job.spec.intervalMs >= deadline) return null;
    await deps.clock.sleep(job.spec.intervalMs, signal);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The retry loop

export interface WarmupProgress {
  url: string;
  attempt: number;
  result: ProbeResult;
}

interface WarmupDeps {
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
 * Resolves with status `passed` once every URL has answered an accepted status, fast enough (`maxTimeMs`) and
 * `passes` times in a row, in order; `deadline` when the deadline (from the call) passes first — the
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
): Promise<WarmResult> {
  signal.throwIfAborted();
  const { probe, clock, onProgress, onConnect } = deps;
  const started = clock.now();
  const deadline = started + spec.deadlineMs;
  let tries = 0;
  let lastError: string | null = null;
  const outcome = (passed: boolean): WarmResult => ({ status: passed ? 'passed' : 'deadline', tries, elapsedMs: clock.now() - started, lastError });

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

// ---------------------------------------------------------------------------------------------------------
// Where the servers live


/** The distinct addresses of the servers, or the first server no socket could place, and why. */
type TargetLookup =
  | { readonly targets: ProbeTarget[] }
  | { readonly missing: string; readonly why: string };

/** Asks each socket in turn until one knows the server's address. */
async function findTargets(apis: readonly RuntimeApi[], refs: readonly ServerRef[]): Promise<TargetLookup> {
  const found = new Map<string, ProbeTarget>();
  for (const ref of refs) {
    let target: ProbeTarget | null = null;
    const why: string[] = [];
    for (const api of apis) {
      try {
        const row = (await api.showServersState(ref.backend)).find((r) => r.server === ref.server);
        if (row === undefined) why.push(`no such server on ${api.label}`);
        else if (row.addr === '' || row.port === null || row.port <= 0) why.push(`no address on ${api.label}`);
        else {
          target = { host: row.addr, port: row.port };
          break;
        }
      } catch (err) {
        why.push(errorText(err));
      }
    }
    if (target === null) return { missing: serverKey(ref), why: why.join('; ') };
    found.set(`${target.host}:${target.port}`, target);
  }
  return { targets: [...found.values()] };
}
