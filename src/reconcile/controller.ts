// Turns supervisord events and resyncs into decisions: desired server states and warm-ups, per process.

import type { Clock } from '../clock.js';
import type { Config, ProgramRule } from '../config/types.js';
import { resolveProcess, warmupSpecOf } from '../config/resolve.js';
import type { ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { ProcessStateEvent, SupervisorEvent } from '../supervisor/events.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec, type ProcessName, type ProcessState } from '../supervisor/types.js';
import type { Probe } from '../warmup/probe.js';
import { runWarmup } from '../warmup/run.js';
import type { WarmupSpec } from '../warmup/types.js';
import { resolveRequests } from '../warmup/urls.js';
import type { RuntimeApi } from './applier.js';
import type { DesiredState } from './desired.js';
import { POLICY, immediateState } from './policy.js';
import type { ProcessSnapshot, WarmupStatus } from './snapshot.js';
import { findTargets, readAdminStates } from './targets.js';

export interface ControllerDeps {
  readonly config: Config;
  readonly desired: DesiredState;
  /** One per stats socket; used to read addresses and states, never to change them (appliers do that). */
  readonly apis: readonly RuntimeApi[];
  readonly probe: Probe;
  readonly clock: Clock;
  readonly log: Logger;
  readonly rpc: { getAllProcessInfo(): Promise<ProcessInfo[]> } | null;
  /** The listener's own process: its events are never mirrored. */
  readonly self: ProcessName | null;
  /** Called after anything a snapshot shows has changed (for the state file). */
  readonly onChange?: () => void;
}

export type { WarmupStatus } from './snapshot.js';

/** What the listener knows about one mapped process. */
export interface Tracked {
  readonly name: ProcessName;
  readonly rule: ProgramRule;
  readonly servers: readonly ServerRef[];
  readonly warmup: WarmupSpec | null;
  state: ProcessState | null;
  /** Pid of the incarnation `state` is about (RUNNING, STOPPING, …); null when not known. */
  pid: number | null;
  warmupStatus: WarmupStatus;
  /** When warmupStatus last changed (clock ms), tries and last error of the last finished warm-up. */
  warmupAt: number | null;
  warmupTries: number | null;
  warmupError: string | null;
  warming: AbortController | null;
  /** Value of the controller's event counter when an event last touched this process. */
  lastEventSeq: number;
}

export class Controller {
  private readonly tracked = new Map<string, Tracked | null>();
  private eventSeq = 0;
  private lastPoolserial: number | null = null;
  private lastSerial: number | null = null;
  private resyncRunning: Promise<void> | null = null;
  private resyncAgain: string | null = null;
  /** Whether the last resync got an answer: events out of step are then checked with supervisord. */
  private resyncWorks = false;
  private readonly warmups = new Set<Promise<void>>();

  constructor(private readonly deps: ControllerDeps) {}

  /** Called for every event, synchronously, just after it is acknowledged: decide now, do slow work later. */
  handleEvent(event: SupervisorEvent): void {
    const { meta } = event;
    if (this.lastSerial === meta.serial && this.lastPoolserial === meta.poolserial) {
      // At-least-once delivery: the in-flight event comes again after a listener restart.
      this.deps.log.debug('duplicate event ignored', { serial: meta.serial });
      return;
    }
    this.checkPoolserial(meta.poolserial);
    this.lastSerial = meta.serial;
    switch (event.kind) {
      case 'process-state': {
        const fields = {
          event: meta.eventname,
          process: namespec(event),
          from: event.fromState,
          serial: meta.serial,
        };
        if (this.isSelf(event)) return;
        const t = this.track(event);
        if (t === null) {
          this.deps.log.debug('event for unmapped process', fields);
          return;
        }
        this.deps.log.info('event received', fields);
        const stale = this.outOfStep(t, event);
        if (stale !== null) {
          // Events are history, getAllProcessInfo is now: a replayed backlog (listener restarted) or an
          // event after lost ones must not undo what supervisord said since. Ask it again instead.
          this.deps.log.info('event out of step with the known state; asking supervisord', { ...fields, why: stale });
          void this.requestResync(`${namespec(event)} ${meta.eventname}: ${stale}`);
          return;
        }
        this.eventSeq += 1;
        t.lastEventSeq = this.eventSeq;
        this.transition(t, event.state, event.pid);
        return;
      }
      case 'group-removed':
        this.requestResync(`group ${event.group} removed`);
        return;
      default:
        this.deps.log.debug('event ignored', { event: meta.eventname, serial: meta.serial });
    }
  }

  /** Ask supervisord for the truth (getAllProcessInfo) and act on every difference. */
  requestResync(reason: string): Promise<void> {
    if (this.resyncRunning !== null) {
      this.resyncAgain = reason;
      return this.resyncRunning;
    }
    this.resyncRunning = this.resyncLoop(reason).finally(() => {
      this.resyncRunning = null;
    });
    return this.resyncRunning;
  }

  /** The processes the listener tracks, for status output and tests. */
  processes(): Tracked[] {
    return [...this.tracked.values()].filter((t): t is Tracked => t !== null);
  }

  /** Cancel warm-ups and wait for them to unwind. */
  async stop(): Promise<void> {
    for (const t of this.processes()) t.warming?.abort(new Error('listener stopping'));
    await Promise.allSettled([...this.warmups]);
  }

  private checkPoolserial(poolserial: number): void {
    const last = this.lastPoolserial;
    this.lastPoolserial = poolserial;
    if (last === null) return;
    if (poolserial > last + 1) {
      // supervisord drops the oldest pending events when its buffer overflows: the gap is lost history.
      this.requestResync(`poolserial jumped from ${last} to ${poolserial}`);
    } else if (poolserial < last) {
      // poolserial resets to 0 when the pool is recreated (reload, update of the listener's section).
      this.requestResync(`poolserial went back from ${last} to ${poolserial}`);
    }
  }

  /**
   * Why an event cannot follow from what the listener knows, or null when it can: its from_state is not
   * the known state, or it is about another incarnation (pid) than the running one. Only judged while
   * resyncs work; without supervisord's answers, events are all there is.
   */
  private outOfStep(t: Tracked, e: ProcessStateEvent): string | null {
    if (!this.resyncWorks || t.state === null) return null;
    if (e.fromState !== null && e.fromState !== t.state) return `from ${e.fromState}, but known ${t.state}`;
    const live = t.state === 'RUNNING' || t.state === 'STOPPING';
    if (live && t.pid !== null && t.pid > 0 && e.pid !== null && e.pid > 0 && e.pid !== t.pid) {
      return `pid ${e.pid}, but the known one is ${t.pid}`;
    }
    return null;
  }

  private isSelf(p: ProcessName): boolean {
    const self = this.deps.self;
    return self !== null && self.group === p.group && self.process === p.process;
  }

  private track(name: ProcessName): Tracked | null {
    const key = namespec(name);
    const known = this.tracked.get(key);
    if (known !== undefined) return known;
    const resolved = resolveProcess(this.deps.config, name);
    if (resolved === null) {
      this.tracked.set(key, null);
      return null;
    }
    if (resolved.kind === 'invalid') {
      this.deps.log.error('cannot map process', { process: key, error: resolved.reason });
      this.tracked.set(key, null);
      return null;
    }
    const t: Tracked = {
      name,
      rule: resolved.rule,
      servers: resolved.servers,
      warmup: warmupSpecOf(resolved.rule),
      state: null,
      pid: null,
      warmupStatus: 'none',
      warmupAt: null,
      warmupTries: null,
      warmupError: null,
      warming: null,
      lastEventSeq: 0,
    };
    this.tracked.set(key, t);
    return t;
  }

  /** The processes as the state file shows them, by namespec. */
  snapshot(): [string, ProcessSnapshot][] {
    return this.processes().map((t) => [
      namespec(t.name),
      { state: t.state, pid: t.pid, warmup: t.warmupStatus, warmupAt: t.warmupAt, tries: t.warmupTries, lastError: t.warmupError },
    ]);
  }

  private setWarmup(t: Tracked, status: WarmupStatus, outcome?: { tries: number; lastError: string | null }): void {
    t.warmupStatus = status;
    t.warmupAt = this.deps.clock.now();
    if (outcome !== undefined) {
      t.warmupTries = outcome.tries;
      t.warmupError = outcome.lastError;
    }
  }

  private transition(t: Tracked, state: ProcessState, pid: number | null): void {
    if (t.warming !== null) {
      // Latest wins, per process: a newer state makes a warm-up in progress moot.
      t.warming.abort(new Error(`superseded by ${state}`));
      t.warming = null;
      this.setWarmup(t, 'cancelled');
      this.deps.log.info('warm-up cancelled', { process: namespec(t.name), by: state });
    }
    t.state = state;
    // STARTING begins a new incarnation whose pid is not known yet; STOPPED after BACKOFF says pid 0.
    t.pid = state === 'STARTING' ? null : pid !== null && pid > 0 ? pid : t.pid;
    const action = POLICY[state];
    const owner = namespec(t.name);
    this.deps.desired.set(t.servers, immediateState(action, t.rule.onStopping), owner);
    if (action === 'warm_then_ready') this.startWarmup(t);
    this.deps.onChange?.();
  }

  private startWarmup(t: Tracked): void {
    const owner = namespec(t.name);
    if (t.warmup === null) {
      this.deps.log.info('ready without warm-up', { process: owner });
      this.setWarmup(t, 'none');
      this.deps.desired.set(t.servers, 'ready', owner);
      return;
    }
    const ac = new AbortController();
    t.warming = ac;
    this.setWarmup(t, 'warming');
    const run = this.warm(t, t.warmup, ac.signal).catch((err: unknown) => {
      if (ac.signal.aborted) return;
      this.deps.log.error('warm-up failed unexpectedly', { process: owner, error: String(err) });
    });
    this.warmups.add(run);
    void run.finally(() => this.warmups.delete(run));
  }

  private async warm(t: Tracked, spec: WarmupSpec, signal: AbortSignal): Promise<void> {
    const owner = namespec(t.name);
    const { clock, log } = this.deps;
    const started = clock.now();
    const deadline = started + spec.deadlineMs;
    log.info('warm-up started', { process: owner, requests: spec.requests.join(','), deadline_ms: spec.deadlineMs });
    const needsTargets = spec.requests.some((r) => r.startsWith('/'));
    let targets = needsTargets ? await findTargets(this.deps.apis, t.servers) : [];
    while (targets === null) {
      signal.throwIfAborted();
      if (clock.now() + spec.intervalMs >= deadline) break;
      log.warn('warm-up waiting for the server address from haproxy', { process: owner });
      await clock.sleep(spec.intervalMs, signal);
      targets = await findTargets(this.deps.apis, t.servers);
    }
    signal.throwIfAborted();
    const remaining = Math.max(0, deadline - clock.now());
    const outcome =
      targets === null
        ? { passed: false, tries: 0, lastError: 'server address unknown to every haproxy socket' }
        : await runWarmup(
            { ...spec, deadlineMs: remaining },
            resolveRequests(spec, targets),
            {
              probe: this.deps.probe,
              clock,
              onProgress: (p) =>
                log.info('warm-up probe', {
                  process: owner,
                  url: p.url,
                  attempt: p.attempt,
                  ok: p.result.ok,
                  status: p.result.status,
                  error: p.result.ok ? undefined : p.result.error,
                  ms: p.result.ms,
                }),
            },
            signal,
          );
    signal.throwIfAborted();
    t.warming = null;
    const fields = { process: owner, elapsed_ms: clock.now() - started, tries: outcome.tries };
    const result = { tries: outcome.tries, lastError: outcome.lastError };
    if (outcome.passed) {
      this.setWarmup(t, 'passed', result);
      log.info('warm-up passed; server ready', fields);
      this.deps.desired.set(t.servers, 'ready', owner);
    } else if (spec.onDeadline === 'ready') {
      this.setWarmup(t, 'forced-ready', result);
      log.warn('warm-up deadline passed; ready anyway (on_deadline = ready)', { ...fields, last_error: outcome.lastError });
      this.deps.desired.set(t.servers, 'ready', owner);
    } else {
      this.setWarmup(t, 'deadline', result);
      log.error('warm-up deadline passed; server stays in maint', { ...fields, last_error: outcome.lastError });
    }
    this.deps.onChange?.();
  }

  private async resyncLoop(reason: string): Promise<void> {
    let why: string | null = reason;
    while (why !== null) {
      this.resyncAgain = null;
      await this.resyncOnce(why);
      why = this.resyncAgain;
    }
  }

  private async resyncOnce(reason: string): Promise<void> {
    const { rpc, log } = this.deps;
    if (rpc === null) {
      log.warn('cannot resync: no supervisord url ([supervisor] url or $SUPERVISOR_SERVER_URL)', { reason });
      return;
    }
    const seqAtStart = this.eventSeq;
    let infos: ProcessInfo[];
    try {
      infos = await rpc.getAllProcessInfo();
    } catch (err) {
      this.resyncWorks = false;
      log.warn('supervisord unreachable; working from events', { reason, error: String(err) });
      return;
    }
    this.resyncWorks = true;
    log.info('resync', { reason, processes: infos.length });
    const seen = new Set<string>();
    for (const info of infos) {
      const name = { group: info.group, process: info.name };
      if (this.isSelf(name)) continue;
      const t = this.track(name);
      if (t === null) continue;
      seen.add(namespec(name));
      // An event handled since we asked is newer than this answer.
      if (t.lastEventSeq > seqAtStart) continue;
      const livePid = info.state === 'RUNNING' || info.state === 'STOPPING' ? info.pid : null;
      // Same state, other pid: it was restarted while we were not told (lost events); treat as new.
      const samePid = t.pid === null || livePid === null || t.pid === livePid;
      if (t.state === info.state && samePid) {
        t.pid = livePid ?? t.pid;
        continue;
      }
      if (t.state === null && info.state === 'RUNNING' && (await this.alreadyReady(t))) {
        if (t.lastEventSeq > seqAtStart) continue;
        t.state = 'RUNNING';
        t.pid = livePid;
        this.deps.onChange?.();
        log.info('resync: running and ready in haproxy; left as is', { process: namespec(name) });
        this.deps.desired.set(t.servers, 'ready', namespec(name));
        continue;
      }
      log.info('resync: state differs', {
        process: namespec(name),
        known: t.state,
        actual: info.state,
        known_pid: t.pid,
        pid: livePid,
      });
      this.transition(t, info.state, livePid);
    }
    for (const [key, t] of this.tracked) {
      if (t === null || seen.has(key) || t.state === null) continue;
      // `supervisorctl update` removed it: no PROCESS_STATE event says so; leave its servers in maint.
      log.info('process gone from supervisord; servers to maint and forgotten', { process: key });
      t.warming?.abort(new Error('process removed'));
      this.deps.desired.set(t.servers, 'maint', key);
      this.tracked.delete(key);
      this.deps.onChange?.();
    }
  }

  private async alreadyReady(t: Tracked): Promise<boolean> {
    const states = await readAdminStates(this.deps.apis, t.servers);
    return states.length > 0 && states.every((s) => s === 'ready');
  }
}
