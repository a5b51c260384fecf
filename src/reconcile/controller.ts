// Turns supervisord events and resyncs into decisions: desired server states and warm-ups, per process.

import type { Clock } from '../clock.js';
import type { Config, ProgramRule } from '../config/types.js';
import { resolveProcess, warmupSpecOf } from '../config/resolve.js';
import { errorText } from '../errors.js';
import { Semaphore } from '../semaphore.js';
import type { RuntimeApi } from '../haproxy/api.js';
import type { ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { ProcessStateEvent, SupervisorEvent } from '../supervisor/protocol.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec, type ProcessName, type ProcessState } from '../supervisor/types.js';
import type { Probe } from '../warmup/probe.js';
import type { WarmupSpec } from '../warmup/spec.js';
import { goesReady, warmUp, type WarmResult } from '../warmup/warm.js';
import type { DesiredState } from './desired.js';
import { stopgapChanges, type Candidate } from './never-empty.js';
import { POLICY, immediateState } from './policy.js';
import { Resync, type Known, type ResyncChange, type ResyncSubject } from './resync.js';
import type { ProcessSnapshot, WarmupStatus } from './snapshot.js';

interface ControllerDeps {
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
  /** What the previous listener's state file said of each process (by namespec); null when none. */
  readonly previous?: Readonly<Record<string, ProcessSnapshot>> | null;
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
  /** When the warm-up in progress started (clock ms), and whether the app's port has answered it. */
  warmingSince: number;
  portAnswered: boolean;
  /** Value of the controller's event counter when an event last touched this process. */
  lastEventSeq: number;
}

/**
 * supervisord sends a listener events only once it is RUNNING, `startsecs` (1 s by default) after its start:
 * until the first event comes, a restart in that window is seen only by asking, every STARTUP_POLL_MS.
 */
const STARTUP_POLL_MS = 250;
const STARTUP_POLL_MAX_MS = 30_000;

export class Controller implements ResyncSubject {
  private readonly byName = new Map<string, Tracked | null>();
  eventSeq = 0;
  private lastPoolserial: number | null = null;
  private readonly resync: Resync;
  private readonly warmups = new Set<Promise<void>>();
  private sawEvent = false;
  private cancelPoll: (() => void) | null = null;
  /** `[warmup] concurrency`; null: no limit. */
  private readonly slots: Semaphore | null;

  constructor(private readonly deps: ControllerDeps) {
    const recorded = deps.previous === null || deps.previous === undefined ? null : new Set(Object.keys(deps.previous));
    this.resync = new Resync({ rpc: deps.rpc, apis: deps.apis, log: deps.log, clock: deps.clock, recorded }, this);
    const concurrency = deps.config.warmupConcurrency;
    this.slots = concurrency === null ? null : new Semaphore(concurrency);
  }

  /** Called for every event, synchronously, just after it is acknowledged: decide now, do slow work later. */
  handleEvent(event: SupervisorEvent): void {
    const { meta } = event;
    this.sawEvent = true;
    this.checkPoolserial(meta.poolserial);
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
          // A backlog replayed after a start-up resync is out of step event after event: one line, debug.
          this.deps.log.debug('event out of step with the known state; asking supervisord', { ...fields, why: stale });
          this.resync.request(`${namespec(event)} ${meta.eventname}: ${stale}`, true);
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

  /** Ask supervisord for the truth (getAllProcessInfo) and act on every difference; never rejects. */
  requestResync(reason: string): void {
    this.resync.request(reason);
  }

  /** Resolves when no resync is running. */
  whenResynced(): Promise<void> {
    return this.resync.whenIdle();
  }

  /** The processes the listener tracks, for status output and tests. */
  processes(): Tracked[] {
    return [...this.byName.values()].filter((t): t is Tracked => t !== null);
  }

  /** The start-up resync, then quiet ones every STARTUP_POLL_MS until supervisord's first event arrives. */
  start(): void {
    this.requestResync('start-up');
    const { clock } = this.deps;
    const until = clock.now() + STARTUP_POLL_MAX_MS;
    const tick = (): void => {
      this.cancelPoll = null;
      if (this.sawEvent || clock.now() >= until) return;
      this.resync.request('no event from supervisord yet', true);
      this.cancelPoll = clock.timer(STARTUP_POLL_MS, tick);
    };
    this.cancelPoll = clock.timer(STARTUP_POLL_MS, tick);
  }

  async stop(): Promise<void> {
    this.cancelPoll?.();
    this.cancelPoll = null;
    this.resync.stop();
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
    if (!this.resync.works || t.state === null) return null;
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
    const known = this.byName.get(key);
    if (known !== undefined) return known;
    const resolved = resolveProcess(this.deps.config, name);
    if (resolved === null) {
      this.byName.set(key, null);
      return null;
    }
    if (resolved.kind === 'invalid') {
      this.deps.log.error('cannot map process', { process: key, error: resolved.reason });
      this.byName.set(key, null);
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
      warmingSince: 0,
      portAnswered: false,
      lastEventSeq: 0,
    };
    this.byName.set(key, t);
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

  transition(t: Tracked, state: ProcessState, pid: number | null): void {
    const action = POLICY[state];
    if (action === 'keep_warming' && t.state === 'STARTING') {
      // RUNNING after the STARTING of the same start: its warm-up goes on, or has decided already.
      t.state = state;
      t.pid = pid !== null && pid > 0 ? pid : t.pid;
      // Without a warm-up, RUNNING (startsecs passed) is the only sign that the instance serves.
      if (t.warmup === null) this.startWarmup(t);
      this.deps.onChange?.();
      return;
    }
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
    const owner = namespec(t.name);
    this.deps.desired.set(t.servers, immediateState(action, t.rule.onStopping), owner);
    if (action === 'warm_then_ready' || action === 'keep_warming') this.startWarmup(t);
    this.keepBackendsServed();
    this.deps.onChange?.();
  }

  /** What a resync compares: every mapped process in `names` (tracked from now on) and every one tracked. */
  known(names: readonly ProcessName[]): ReadonlyMap<string, Known> {
    for (const name of names) if (!this.isSelf(name)) this.track(name);
    return new Map(this.processes().map((t) => [namespec(t.name), t]));
  }

  /**
   * Whether a process found RUNNING may be the incarnation a previous listener warmed: true unless the
   * previous listener's record says it warmed another pid, or never finished warming this one.
   */
  mayAdopt(key: string, pid: number | null): boolean {
    const before = this.deps.previous?.[key];
    if (before === undefined) return true;
    const warmed = before.warmup === 'passed' || before.warmup === 'forced-ready' || before.warmup === 'none';
    return before.state === 'RUNNING' && warmed && pid !== null && before.pid === pid;
  }

  /** A resync's differences with supervisord, each unless an event has touched the process since it asked. */
  apply(changes: readonly ResyncChange[], seqAtStart: number, reason: string): void {
    const { log, desired } = this.deps;
    for (const change of changes) {
      const t = this.byName.get(change.key);
      if (t === undefined || t === null || t.lastEventSeq > seqAtStart) continue;
      const process = change.key;
      switch (change.kind) {
        case 'pid':
          t.pid = change.pid;
          break;
        case 'transition':
          log.info('resync: state differs', { process, known: change.known, actual: change.state, known_pid: change.knownPid, pid: change.pid, reason });
          this.transition(t, change.state, change.pid);
          break;
        case 'adopt':
          if (change.evidence === 'haproxy') log.info('resync: running and ready in haproxy; left ready', { process });
          else log.info('resync: running and warmed by the previous listener; left ready', { process });
          t.state = 'RUNNING';
          t.pid = change.pid;
          desired.set(t.servers, 'ready', process);
          break;
        case 'forget':
          log.info('process gone from supervisord; servers to maint and forgotten', { process });
          t.warming?.abort(new Error('process removed'));
          desired.set(t.servers, 'maint', process);
          this.byName.delete(process);
          break;
      }
    }
    this.keepBackendsServed();
    this.deps.onChange?.();
  }

  /**
   * Never an empty backend while one of its instances runs: when a backend has no warm server left, the
   * warming process whose port answers and that started warming first goes ready early (a slow page beats a
   * 503) and keeps warming; once its backends have a warm server again, it goes back to maint until warm.
   */
  private keepBackendsServed(): void {
    const candidates: Candidate[] = this.processes().map((t) => ({
      key: namespec(t.name),
      servers: t.servers,
      warm: t.warming === null && (t.state === 'RUNNING' || t.state === 'STARTING') && this.isReady(t),
      stopgap: t.warmupStatus === 'stopgap',
      eligible: t.warming !== null && t.portAnswered && t.rule.warmup.neverEmpty,
      since: t.warmingSince,
    }));
    const { start, end } = stopgapChanges(candidates);
    for (const { key, backend } of start) {
      const t = this.byName.get(key) as Tracked;
      this.deps.log.warn('backend would have no server in service: ready before warm (its port answers)', {
        process: key,
        backend,
        fix: 'restart one instance at a time (supervisor-haproxy restart) to keep warm servers in service',
      });
      this.setWarmup(t, 'stopgap');
      this.deps.desired.set(t.servers, 'ready', key);
    }
    for (const key of end) {
      const t = this.byName.get(key) as Tracked;
      this.deps.log.info('a warm server is back in service: maint until warm', { process: key });
      this.setWarmup(t, 'warming');
      this.deps.desired.set(t.servers, 'maint', key);
    }
  }

  /** Whether every server of the process is desired ready. */
  private isReady(t: Tracked): boolean {
    return t.servers.length > 0 && t.servers.every((ref) => this.deps.desired.get(ref)?.state === 'ready');
  }

  private startWarmup(t: Tracked): void {
    const owner = namespec(t.name);
    if (t.warmup === null) {
      if (t.state !== 'RUNNING') return;
      this.deps.log.info('ready without warm-up', { process: owner });
      this.setWarmup(t, 'none');
      this.deps.desired.set(t.servers, 'ready', owner);
      return;
    }
    const ac = new AbortController();
    t.warming = ac;
    t.warmingSince = this.deps.clock.now();
    t.portAnswered = false;
    this.setWarmup(t, 'warming');
    const { apis, probe, clock, log } = this.deps;
    const spec = t.warmup;
    const onPortAnswered = (): void => {
      if (t.warming !== ac) return;
      t.portAnswered = true;
      this.keepBackendsServed();
      this.deps.onChange?.();
    };
    const run = (async () => {
      // The deadline counts from the warm-up's own start: waiting for a slot is not the instance's fault.
      if (this.slots?.full === true) log.info('warm-up waiting for a slot ([warmup] concurrency)', { process: owner });
      const release = await this.slots?.acquire(ac.signal);
      try {
        return await warmUp({ process: owner, servers: t.servers, spec, onPortAnswered }, { apis, probe, clock, log }, ac.signal);
      } finally {
        release?.();
      }
    })().then(
      (result) => this.warmed(t, ac, result),
      (err: unknown) => {
        // Only an abort rejects: a newer event superseded this warm-up and has decided already.
        if (!ac.signal.aborted) log.error('warm-up ended unexpectedly', { process: owner, error: errorText(err) });
      },
    );
    this.warmups.add(run);
    void run.finally(() => this.warmups.delete(run));
  }

  private warmed(t: Tracked, ac: AbortController, result: WarmResult): void {
    if (ac.signal.aborted || t.warming !== ac) return;
    t.warming = null;
    this.setWarmup(t, result.status, { tries: result.tries, lastError: result.lastError });
    // A stopgap whose warm-up did not pass leaves its backend served by nothing better: maint all the same.
    this.deps.desired.set(t.servers, goesReady(result.status) ? 'ready' : 'maint', namespec(t.name));
    this.keepBackendsServed();
    this.deps.onChange?.();
  }
}
