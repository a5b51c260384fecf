// `restart`: a rolling restart that takes traffic away before stopping, and waits for warm and UP before the next.

import type { RestartArgs } from '../args.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import { resolveProcess } from '../config/resolve.js';
import { errorText, RestartInterrupted, RestartStopped, UsageError } from '../errors.js';
import { serverKey, type ServerRef } from '../haproxy/types.js';
import type { ListenerSnapshot } from '../reconcile/snapshot.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec } from '../supervisor/types.js';
import { inService, lastHealthyViolations } from './agreement.js';
import type { LiveHaproxy, LiveSupervisor, ServerStat } from './live.js';
import { TakenOut } from './restart-undo.js';

interface RestartDeps {
  readonly config: Config;
  readonly haproxies: readonly LiveHaproxy[];
  readonly supervisor: LiveSupervisor;
  readonly clock: Clock;
  readonly out: (line: string) => void;
  readonly args: RestartArgs;
  /** How often HAProxy is asked while waiting for sessions to end or for UP. */
  readonly pollMs?: number;
  /** The listener's state file ([listener] state_file), read for its warm-up outcome; absent without one. */
  readonly listenerState?: () => Promise<ListenerSnapshot | null>;
  /** Aborted (with a RestartInterrupted) on SIGINT/SIGTERM: what restart changed is put back, then it exits. */
  readonly interrupt?: AbortSignal;
}

interface Step {
  readonly info: ProcessInfo;
  readonly name: string;
  readonly servers: readonly ServerRef[];
  /** The rule's warm-up deadline; null when it has no warm-up (ready on RUNNING). */
  readonly deadlineMs: number | null;
}

/** Without the listener's state file, a warm-up is taken as failed this long after its deadline. */
const DEADLINE_GRACE_MS = 2_000;

export async function restart(deps: RestartDeps): Promise<number> {
  const { clock, out, args } = deps;
  const t0 = clock.now();
  const say = (msg: string) => out(`[${((clock.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

  let infos: ProcessInfo[];
  try {
    infos = await deps.supervisor.getAllProcessInfo();
  } catch (err) {
    out(`cannot ask supervisord for its processes: ${errorText(err)}`);
    return 1;
  }
  const steps = plan(deps.config, infos, args.all ? 'all' : args.names);
  if (steps.length === 0) {
    out('nothing to restart: no supervisord process is mapped by this config');
    return 1;
  }
  say(`rolling restart of ${steps.length} process(es): ${steps.map((s) => s.name).join(', ')}`);
  // Back in service but not yet RUNNING (startsecs): each must still get there; one that fails stops the rest.
  const starting: Started[] = [];
  for (const [i, step] of steps.entries()) {
    const takenOut = new TakenOut(step.name, step.servers, step.info.pid);
    try {
      await checkStarting(deps, starting);
      starting.push(await restartOne(deps, step, say, takenOut));
      if (i < steps.length - 1 && args.pauseMs > 0) {
        say(`pausing ${args.pauseMs / 1000}s`);
        await clock.sleep(args.pauseMs, deps.interrupt);
      }
    } catch (err) {
      // Whatever ended it (a guard, a failed stop, a socket error, a signal), what it changed is undone.
      say(`restart stopped at ${step.name}: ${errorText(err)}`);
      for (const line of await takenOut.undo(deps.supervisor)) say(line);
      const rest = steps.slice(i + 1).map((s) => s.name);
      if (rest.length > 0) say(`not restarted (untouched): ${rest.join(', ')}`);
      return err instanceof RestartInterrupted ? err.exitCode : 1;
    }
  }
  try {
    await checkStarting(deps, starting);
    if (starting.length > 0) {
      say(`in service; waiting for supervisord to count ${starting.map((s) => s.name).join(', ')} RUNNING (startsecs)`);
      const running = await pollUntil(deps, args.readyTimeoutMs, async () => {
        await checkStarting(deps, starting);
        return starting.length === 0 ? true : starting.map((s) => s.name).join(', ');
      });
      if (!running.ok) throw new RestartStopped(`still STARTING after --ready-timeout ${secs(args.readyTimeoutMs)}: ${String(running.last)}`);
    }
  } catch (err) {
    say(`restart stopped: ${errorText(err)}`);
    return err instanceof RestartInterrupted ? err.exitCode : 1;
  }
  say(`done: ${steps.length} process(es) restarted`);
  return 0;
}

/** A process the command restarted and saw back in service: the pid supervisord started. */
interface Started {
  readonly name: string;
  readonly pid: number;
}

/**
 * Each process restarted earlier that supervisord does not yet count RUNNING: dropped from `starting` once it
 * is; a RestartStopped if it failed instead (BACKOFF, EXITED, FATAL…, or STARTING again with another pid,
 * supervisord's retry): the listener took it out of service again, and restarting another instance now would
 * leave the backend short of two.
 */
async function checkStarting(deps: RestartDeps, starting: Started[]): Promise<void> {
  for (const s of [...starting]) {
    const info = await deps.supervisor.getProcessInfo(s.name);
    const live = info.state === 'RUNNING' || info.state === 'STARTING';
    const retried = live && s.pid !== 0 && info.pid !== s.pid;
    if (info.state === 'RUNNING' && !retried) starting.splice(starting.indexOf(s), 1);
    else if (!live || retried) {
      const what = retried ? `${info.state} again (pid ${s.pid} died; supervisord retries)` : info.state;
      throw new RestartStopped(
        `${s.name} went ${what} after it was back in service, before supervisord counted it RUNNING (startsecs); ` +
          'the listener took it out again. See its log (supervisorctl tail)',
      );
    }
  }
}

/** The processes in order with their servers; a named process the config does not map is refused up front. */
function plan(config: Config, infos: readonly ProcessInfo[], names: readonly string[] | 'all'): Step[] {
  const steps: Step[] = [];
  for (const info of selectProcesses(config, infos, names)) {
    const name = nameOf(info);
    const resolved = resolveProcess(config, { group: info.group, process: info.name });
    if (resolved === null || resolved.kind !== 'mapped') {
      throw new UsageError(
        `${name} has no HAProxy server in the config${resolved?.kind === 'invalid' ? ` (${resolved.reason})` : ''}; use supervisorctl restart for it`,
      );
    }
    const deadlineMs = resolved.rule.warmup.requests.length === 0 ? null : resolved.rule.warmup.deadlineMs;
    steps.push({ info, name, servers: resolved.servers, deadlineMs });
  }
  return steps;
}

async function restartOne(deps: RestartDeps, step: Step, say: (msg: string) => void, takenOut: TakenOut): Promise<Started> {
  const { haproxies, supervisor, args } = deps;
  const servers = step.servers.map(serverKey).join(',');
  // 1. Guard: the backend keeps at least one other server in service on every socket.
  for (const h of haproxies) {
    const rows = await h.showStat();
    const missing = step.servers.filter((r) => !rows.some((row) => row.proxy === r.backend && row.server === r.server));
    if (missing.length > 0) throw new RestartStopped(`${missing.map(serverKey).join(', ')} not found on ${h.label}`);
    const violations = lastHealthyViolations(step.servers, rows, h.label);
    if (violations.length > 0) throw new RestartStopped(`refusing to take ${servers} out: ${violations.join('; ')}`);
  }
  // 2. Out of rotation before the process is touched.
  const started = deps.clock.now();
  deps.interrupt?.throwIfAborted();
  await takenOut.remember(haproxies);
  await setAll(haproxies, step.servers, args.takeOut);
  say(`${step.name}: ${servers} set to ${args.takeOut} on ${haproxies.length} socket(s); waiting for sessions to end`);
  const drained = await pollUntil(deps, args.drainTimeoutMs, async () => {
    const { left, back } = await drainProgress(haproxies, step.servers);
    // An HAProxy reloaded without a server state file forgot the drain: take the server out again.
    for (const { h, ref } of back) {
      await h.setServerState(ref, args.takeOut);
      say(`${step.name}: ${serverKey(ref)} was back in service on ${h.label} (haproxy reloaded?); set to ${args.takeOut} again`);
    }
    return left === 0 && back.length === 0 ? true : left;
  });
  if (drained.ok) say(`${step.name}: no sessions left (${secs(deps.clock.now() - started)})`);
  else say(`${step.name}: WARNING ${String(drained.last)} session(s) still open after --drain-timeout; restarting anyway`);
  // Drain keeps cookie-persistent clients coming: nothing new may arrive while the process stops.
  if (args.takeOut === 'drain') await setAll(haproxies, step.servers, 'maint');
  deps.interrupt?.throwIfAborted();
  takenOut.handOver();
  // 3. Restart through supervisord; the listener takes it from here (maint until warm, then ready).
  const oldPid = step.info.pid;
  say(`${step.name}: restarting (pid ${oldPid})`);
  const restarted = deps.clock.now();
  try {
    await interruptible(supervisor.stopProcess(step.name, true), deps.interrupt);
  } catch (err) {
    if (err instanceof RestartInterrupted) throw err;
    if (!/NOT_RUNNING/.test(errorText(err))) throw new RestartStopped(`stop failed: ${errorText(err)}`);
  }
  // Not waiting for RUNNING: supervisord says it only startsecs after the start, and the listener warms the
  // instance from STARTING. The pace of the rolling restart is the warm-up's.
  try {
    await interruptible(supervisor.startProcess(step.name, false), deps.interrupt);
  } catch (err) {
    if (err instanceof RestartInterrupted) throw err;
    throw new RestartStopped(`did not start: ${errorText(err)}`);
  }
  const info = await supervisor.getProcessInfo(step.name);
  say(`${step.name}: ${info.state}; waiting for the listener's warm-up and UP on every socket`);
  // 4. Back in service everywhere, or stop here: at once when the process fails or its warm-up has.
  const up = await pollUntil(deps, args.readyTimeoutMs, async () => {
    const now = await supervisor.getProcessInfo(step.name);
    if (now.state !== 'RUNNING' && now.state !== 'STARTING') throw new RestartStopped(`the process went ${now.state} after the restart`);
    const statuses = await statusesOf(haproxies, step.servers);
    if (statuses.every((s) => inService(s.status))) return true;
    await warmupFailed(deps, step, restarted);
    return statuses;
  });
  if (!up.ok) {
    const shown = Array.isArray(up.last)
      ? (up.last as { where: string; status: string }[]).map((s) => `${s.where} ${s.status}`).join(', ')
      : 'unknown';
    throw new RestartStopped(
      `not UP within --ready-timeout ${secs(args.readyTimeoutMs)} (haproxy: ${shown}); ` +
        'is the listener running, and can its warm-up pass? (see its log)',
    );
  }
  say(`${step.name}: UP on every socket, ${secs(deps.clock.now() - restarted)} after the restart`);
  return { name: step.name, pid: info.pid };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/**
 * A RestartStopped once the listener's warm-up of this start has failed for good: its state file says so
 * (deadline passed or error, since the restart); without the file, once the rule's deadline and a grace
 * have passed. on_deadline = ready never fails here: the server comes UP.
 */
async function warmupFailed(deps: RestartDeps, step: Step, restarted: number): Promise<void> {
  if (step.deadlineMs === null) return;
  if (deps.listenerState !== undefined) {
    const record = (await deps.listenerState())?.processes[step.name];
    const final = record !== undefined && (record.warmup === 'deadline' || record.warmup === 'failed');
    if (final && record.warmupAt !== null && record.warmupAt >= restarted) {
      throw new RestartStopped(
        `the listener's warm-up failed (${record.warmup === 'deadline' ? 'deadline passed' : 'error'}: ${record.lastError ?? 'no answer'}); ` +
          'it stays in maint: see the listener log, or supervisor-haproxy check --probe',
      );
    }
    return;
  }
  if (deps.clock.now() - restarted > step.deadlineMs + DEADLINE_GRACE_MS) {
    throw new RestartStopped(
      `not UP ${secs(deps.clock.now() - restarted)} after the restart, past its warm-up deadline (${secs(step.deadlineMs)}): ` +
        'the warm-up failed; it stays in maint (see the listener log)',
    );
  }
}

async function setAll(haproxies: readonly LiveHaproxy[], refs: readonly ServerRef[], state: 'maint' | 'drain'): Promise<void> {
  await Promise.all(haproxies.map(async (h) => {
    for (const ref of refs) await h.setServerState(ref, state);
  }));
}

function rowOf(rows: readonly ServerStat[], ref: ServerRef): ServerStat | undefined {
  return rows.find((r) => r.proxy === ref.backend && r.server === ref.server);
}

/** Sessions and queued requests left on the servers, and any server no longer out of rotation. */
async function drainProgress(
  haproxies: readonly LiveHaproxy[],
  refs: readonly ServerRef[],
): Promise<{ left: number; back: { h: LiveHaproxy; ref: ServerRef }[] }> {
  let left = 0;
  const back: { h: LiveHaproxy; ref: ServerRef }[] = [];
  for (const h of haproxies) {
    const rows = await h.showStat();
    for (const ref of refs) {
      const row = rowOf(rows, ref);
      left += (row?.scur ?? 0) + (row?.qcur ?? 0);
      if (row !== undefined && !/^(DRAIN|MAINT)/.test(row.status)) back.push({ h, ref });
    }
  }
  return { left, back };
}

async function statusesOf(
  haproxies: readonly LiveHaproxy[],
  refs: readonly ServerRef[],
): Promise<{ where: string; status: string }[]> {
  const out: { where: string; status: string }[] = [];
  for (const h of haproxies) {
    const rows = await h.showStat();
    for (const ref of refs) out.push({ where: `${h.label} ${serverKey(ref)}`, status: rowOf(rows, ref)?.status ?? 'missing' });
  }
  return out;
}

/** Calls check every pollMs until it returns true or the time is up; `last` is its last other answer. */
async function pollUntil(
  deps: RestartDeps,
  timeoutMs: number,
  check: () => Promise<true | unknown>,
): Promise<{ ok: true } | { ok: false; last: unknown }> {
  const deadline = deps.clock.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    deps.interrupt?.throwIfAborted();
    try {
      const r = await check();
      if (r === true) return { ok: true };
      last = r;
    } catch (err) {
      if (err instanceof RestartStopped) throw err;
      last = errorText(err); // a socket that did not answer this time: ask again
    }
    if (deps.clock.now() >= deadline) return { ok: false, last };
    await deps.clock.sleep(Math.min(deps.pollMs ?? 200, Math.max(0, deadline - deps.clock.now())), deps.interrupt);
  }
}

/** The call, or its abort's reason at once: once the process is handed over, a signal need not wait for it. */
function interruptible<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return call;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// ---- which processes: names as operators type them, resolved against getAllProcessInfo --------------------

/**
 * NAME may be `group:process`, `group:*`, a group (every process in it) or a process name (in any group),
 * as supervisorctl accepts them. `all` means every process the config maps, in supervisord's order.
 * Unknown names are a UsageError naming them all; duplicates are dropped, order is kept.
 */
export function selectProcesses(
  config: Config,
  infos: readonly ProcessInfo[],
  names: readonly string[] | 'all',
): ProcessInfo[] {
  if (names === 'all') {
    return infos.filter((i) => resolveProcess(config, { group: i.group, process: i.name })?.kind === 'mapped');
  }
  const out: ProcessInfo[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const matches = match(infos, name);
    if (matches.length === 0) unknown.push(name);
    for (const m of matches) if (!out.includes(m)) out.push(m);
  }
  if (unknown.length > 0) {
    throw new UsageError(`no such process in supervisord: ${unknown.join(', ')}`);
  }
  return out;
}

function match(infos: readonly ProcessInfo[], name: string): ProcessInfo[] {
  const colon = name.indexOf(':');
  if (colon >= 0) {
    const group = name.slice(0, colon);
    const process = name.slice(colon + 1);
    return infos.filter((i) => i.group === group && (process === '*' || i.name === process));
  }
  const group = infos.filter((i) => i.group === name);
  if (group.length > 0) return group;
  return infos.filter((i) => i.name === name);
}

export const nameOf = (i: ProcessInfo): string => namespec({ group: i.group, process: i.name });
