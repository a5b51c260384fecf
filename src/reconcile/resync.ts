// Asks supervisord for the truth (getAllProcessInfo) and says how what the listener knows differs from it.

import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import type { RuntimeApi } from '../haproxy/api.js';
import { adminStateOf } from '../haproxy/replies.js';
import type { AdminState, ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec, type ProcessName, type ProcessState } from '../supervisor/types.js';

/** What the listener knows of one mapped process, as a resync compares it. */
export interface Known {
  readonly servers: readonly ServerRef[];
  readonly state: ProcessState | null;
  readonly pid: number | null;
  /** The controller's event count when an event last touched it. */
  readonly lastEventSeq: number;
}

/** One difference with supervisord's answer, for the controller to apply. */
export type ResyncChange =
  /** Same state: the running pid is learnt. */
  | { readonly kind: 'pid'; readonly key: string; readonly pid: number }
  /** Another state, or another incarnation: act as on an event. */
  | { readonly kind: 'transition'; readonly key: string; readonly state: ProcessState; readonly pid: number | null; readonly known: ProcessState | null; readonly knownPid: number | null }
  /**
   * Found RUNNING, first seen, and warmed by the previous listener: ready in HAProxy as it left it, or, with
   * no socket to read (agent only), recorded in its state file as warmed with this very pid. Left ready.
   */
  | { readonly kind: 'adopt'; readonly key: string; readonly pid: number | null; readonly evidence: 'haproxy' | 'record' }
  /** Gone from supervisord (`update` removed it): servers to maint, forgotten. */
  | { readonly kind: 'forget'; readonly key: string };

/** The controller's side: its event count, what it knows, and applying the differences. */
export interface ResyncSubject {
  /** Counts handled events: an event handled after the question was asked is newer than the answer. */
  readonly eventSeq: number;
  /**
   * What the listener knows of every mapped process named in `infos` (tracking it from now on) and of every
   * process it tracked before, by namespec. `mayAdopt(key, pid)`: whether the previous listener warmed that
   * incarnation, so that ready in HAProxy may be taken as warm.
   */
  known(names: readonly ProcessName[]): ReadonlyMap<string, Known>;
  mayAdopt(key: string, pid: number | null): boolean;
  /** Applies the changes; each skips a process that an event has touched since `seqAtStart`. */
  apply(changes: readonly ResyncChange[], seqAtStart: number, reason: string): void;
}

/**
 * The differences between what the listener knows and supervisord's answer (pure). A process an event touched
 * after the question was asked (`lastEventSeq > seqAtStart`) is newer than the answer and left alone, in both
 * the compare and the forget step. `adoptable` are first seen RUNNING and may be adopted if ready in HAProxy;
 * the caller checks that and otherwise transitions them.
 */
export function diffResync(
  known: ReadonlyMap<string, Known>,
  infos: readonly ProcessInfo[],
  seqAtStart: number,
  mayAdopt: (key: string, pid: number | null) => boolean,
): { changes: ResyncChange[]; adoptable: string[] } {
  const changes: ResyncChange[] = [];
  const adoptable: string[] = [];
  const seen = new Set<string>();
  for (const info of infos) {
    const key = namespec({ group: info.group, process: info.name });
    const k = known.get(key);
    if (k === undefined) continue; // not mapped, or the listener itself
    seen.add(key);
    if (k.lastEventSeq > seqAtStart) continue;
    const livePid = info.state === 'RUNNING' || info.state === 'STOPPING' ? info.pid : null;
    // Same state, other pid: it was restarted while we were not told (lost events); treat as new.
    const samePid = k.pid === null || livePid === null || k.pid === livePid;
    if (k.state === info.state && samePid) {
      if (livePid !== null && livePid !== k.pid) changes.push({ kind: 'pid', key, pid: livePid });
      continue;
    }
    // Ready in HAProxy is not warm: a process restarted while no listener ran is ready there, and cold.
    if (k.state === null && info.state === 'RUNNING' && mayAdopt(key, livePid)) {
      adoptable.push(key);
      continue;
    }
    changes.push({ kind: 'transition', key, state: info.state, pid: livePid, known: k.state, knownPid: k.pid });
  }
  for (const [key, k] of known) {
    if (seen.has(key) || k.state === null || k.lastEventSeq > seqAtStart) continue;
    changes.push({ kind: 'forget', key });
  }
  return { changes, adoptable };
}

interface ResyncDeps {
  readonly rpc: { getAllProcessInfo(): Promise<ProcessInfo[]> } | null;
  readonly apis: readonly RuntimeApi[];
  readonly log: Logger;
  readonly clock: Clock;
  /** Namespecs the previous listener's state file has a record of; null without one. */
  readonly recorded?: ReadonlySet<string> | null;
}

/**
 * A resync that could not reach supervisord is tried again, after RETRY_MIN_MS doubling up to RETRY_MAX_MS:
 * the event it was asked for (one out of step, a gap in poolserial) is lost history until it succeeds.
 */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

export class Resync {
  private running: Promise<void> | null = null;
  private again: { reason: string; quiet: boolean } | null = null;
  private retryMs = RETRY_MIN_MS;
  private cancelRetry: (() => void) | null = null;
  private failing = false;
  private stopped = false;
  /** Whether the last resync got an answer: events out of step are then checked with supervisord. */
  works = false;

  constructor(
    private readonly deps: ResyncDeps,
    private readonly subject: ResyncSubject,
  ) {}

  /**
   * Runs a resync now, or once more after the one running; never rejects (errors are logged). A quiet one
   * logs only what it finds different: a backlog replayed at supervisord's start asks again and again.
   */
  request(reason: string, quiet = false): void {
    if (this.stopped) return;
    if (this.running !== null) {
      if (this.again === null || this.again.quiet) this.again = { reason, quiet };
      return;
    }
    this.running = this.loop({ reason, quiet })
      .catch((err: unknown) => this.deps.log.error('resync failed', { reason, error: errorText(err) }))
      .finally(() => {
        this.running = null;
      });
  }

  /** No more resyncs nor retries (shutdown). */
  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
  }

  /** Resolves when no resync is running (for shutdown and tests). */
  async whenIdle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async loop(first: { reason: string; quiet: boolean }): Promise<void> {
    let next: { reason: string; quiet: boolean } | null = first;
    while (next !== null) {
      this.again = null;
      await this.once(next.reason, next.quiet);
      next = this.again;
    }
  }

  private async once(reason: string, quiet: boolean): Promise<void> {
    const { rpc, log } = this.deps;
    if (rpc === null) {
      log.warn('cannot resync: no supervisord url ([supervisor] url or $SUPERVISOR_SERVER_URL)', { reason });
      return;
    }
    const seqAtStart = this.subject.eventSeq;
    let infos: ProcessInfo[];
    try {
      infos = await rpc.getAllProcessInfo();
    } catch (err) {
      this.works = false;
      const fields = { reason, error: errorText(err), retry_ms: this.retryMs };
      (this.failing ? log.debug : log.warn)('supervisord unreachable; working from events, asking again', fields);
      this.failing = true;
      this.scheduleRetry(reason, quiet);
      return;
    }
    this.cancelRetry?.();
    this.cancelRetry = null;
    this.retryMs = RETRY_MIN_MS;
    if (this.failing) log.info('supervisord reachable again', { reason });
    this.failing = false;
    this.works = true;
    (quiet ? log.debug : log.info)('resync', { reason, processes: infos.length });
    const known = this.subject.known(infos.map((i) => ({ group: i.group, process: i.name })));
    const { changes, adoptable } = diffResync(known, infos, seqAtStart, (key, pid) => this.subject.mayAdopt(key, pid));
    for (const key of adoptable) {
      const k = known.get(key) as Known;
      const info = infos.find((i) => namespec({ group: i.group, process: i.name }) === key) as ProcessInfo;
      // Agent only: no HAProxy to read, and warming again would answer maint meanwhile to every load
      // balancer; the previous listener's record that it warmed this very pid is the evidence.
      const evidence = this.deps.apis.length === 0 ? 'record' : 'haproxy';
      const warm = evidence === 'record' ? this.deps.recorded?.has(key) === true : await this.alreadyReady(k.servers);
      changes.push(
        warm
          ? { kind: 'adopt', key, pid: info.pid, evidence }
          : { kind: 'transition', key, state: info.state, pid: info.pid, known: null, knownPid: null },
      );
    }
    this.subject.apply(changes, seqAtStart, reason);
  }

  private scheduleRetry(reason: string, quiet: boolean): void {
    if (this.stopped || this.cancelRetry !== null) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.cancelRetry = this.deps.clock.timer(delay, () => {
      this.cancelRetry = null;
      this.request(reason, quiet);
    });
  }

  private async alreadyReady(refs: readonly ServerRef[]): Promise<boolean> {
    const states = await readAdminStates(this.deps.apis, refs);
    return states.length > 0 && states.every((s) => s === 'ready');
  }
}

/** The admin state of every ref on every socket that answers; unreachable sockets are left out. */
async function readAdminStates(apis: readonly RuntimeApi[], refs: readonly ServerRef[]): Promise<AdminState[]> {
  const states: AdminState[] = [];
  for (const api of apis) {
    for (const backend of new Set(refs.map((r) => r.backend))) {
      try {
        const rows = await api.showServersState(backend);
        for (const ref of refs.filter((r) => r.backend === backend)) {
          const row = rows.find((r) => r.server === ref.server);
          if (row !== undefined) states.push(adminStateOf(row.adminState));
        }
      } catch {
        // unreachable or unknown backend: nothing to read here
      }
    }
  }
  return states;
}
