// Warms one process up: finds its servers' addresses in HAProxy, probes them, and says whether to make it ready.

import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import type { RuntimeApi } from '../haproxy/api.js';
import type { ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { Probe } from './probe.js';
import { portAnswered, runWarmup, type WarmupOutcome, type WarmupProgress } from './run.js';
import { findTargets, type TargetLookup } from './targets.js';
import type { ProbeTarget, WarmupSpec } from './types.js';
import { resolveRequests } from './urls.js';

export interface WarmJob {
  /** group:process, for logs. */
  readonly process: string;
  readonly servers: readonly ServerRef[];
  readonly spec: WarmupSpec;
  /** Called once, at the first try whose connection the app accepted (its port answers). */
  readonly onPortAnswered?: () => void;
}

export interface WarmDeps {
  /** One per stats socket; only read here. */
  readonly apis: readonly RuntimeApi[];
  readonly probe: Probe;
  readonly clock: Clock;
  readonly log: Logger;
}

/** passed; deadline passed (forced-ready or not); failed: something unexpected went wrong. */
export type WarmStatus = 'passed' | 'forced-ready' | 'deadline' | 'failed';

export interface WarmResult {
  readonly status: WarmStatus;
  /** Whether the servers go ready now. */
  readonly ready: boolean;
  readonly tries: number;
  readonly lastError: string | null;
}

/**
 * Rejects only with the signal's reason, when a newer event superseded the warm-up. Any other failure ends
 * it as `failed` and follows on_deadline like a deadline would, so no process stays "warming" forever.
 */
export async function warmUp(job: WarmJob, deps: WarmDeps, signal: AbortSignal): Promise<WarmResult> {
  const { clock, log } = deps;
  const { spec } = job;
  const started = clock.now();
  log.info('warm-up started', { process: job.process, requests: spec.requests.join(','), deadline_ms: spec.deadlineMs });
  let outcome: WarmupOutcome;
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
    return { status: 'failed', ready, tries: 0, lastError: errorText(err) };
  }
  signal.throwIfAborted();
  const fields = { process: job.process, elapsed_ms: clock.now() - started, tries: outcome.tries };
  const result = { tries: outcome.tries, lastError: outcome.lastError };
  if (outcome.passed) {
    log.info('warm-up passed', fields);
    return { ...result, status: 'passed', ready: true };
  }
  if (spec.onDeadline === 'ready') {
    log.warn('warm-up deadline passed; ready anyway (on_deadline = ready)', { ...fields, last_error: outcome.lastError });
    return { ...result, status: 'forced-ready', ready: true };
  }
  log.error('warm-up deadline passed; server stays in maint', { ...fields, last_error: outcome.lastError });
  return { ...result, status: 'deadline', ready: false };
}

async function probeAll(job: WarmJob, deps: WarmDeps, signal: AbortSignal, deadline: number): Promise<WarmupOutcome> {
  const { clock, log, probe } = deps;
  const { spec } = job;
  const relative = spec.requests.some((r) => r.startsWith('/'));
  const targets = !relative ? [] : spec.address !== undefined ? [spec.address] : await waitForTargets(job, deps, signal, deadline);
  signal.throwIfAborted();
  if (targets === null) {
    return { passed: false, tries: 0, elapsedMs: 0, lastError: 'haproxy never told the server address' };
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
