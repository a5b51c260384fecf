// Asks supervisord for the truth (getAllProcessInfo) and brings what the listener knows in line with it.

import { errorText } from '../errors.js';
import type { RuntimeApi } from '../haproxy/api.js';
import { adminStateOf } from '../haproxy/replies.js';
import type { AdminState, ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec, type ProcessName, type ProcessState } from '../supervisor/types.js';

/** The controller's side of a resync. */
export interface ResyncSubject {
  /** Counts handled events: an event handled after the question was asked is newer than the answer. */
  readonly eventSeq: number;
  isSelf(name: ProcessName): boolean;
  /** The tracked process for a name, or null when no rule maps it. */
  track(name: ProcessName): Resyncable | null;
  transition(t: Resyncable, state: ProcessState, pid: number | null): void;
  /** Whether a process found RUNNING may be the incarnation a previous listener warmed. */
  wasWarm(t: Resyncable, pid: number | null): boolean;
  /** Found RUNNING and already ready in HAProxy: known as running, servers left ready. */
  adopt(t: Resyncable, pid: number | null): void;
  /** Gone from supervisord (`update` removed it): servers to maint, forgotten. */
  forget(key: string): void;
  tracked(): Iterable<[string, Resyncable]>;
}

export interface Resyncable {
  readonly name: ProcessName;
  readonly servers: readonly ServerRef[];
  state: ProcessState | null;
  pid: number | null;
  lastEventSeq: number;
}

export interface ResyncDeps {
  readonly rpc: { getAllProcessInfo(): Promise<ProcessInfo[]> } | null;
  readonly apis: readonly RuntimeApi[];
  readonly log: Logger;
  /** Namespecs the previous listener's state file has a record of; null without one. */
  readonly recorded?: ReadonlySet<string> | null;
}

export class Resync {
  private running: Promise<void> | null = null;
  private again: { reason: string; quiet: boolean } | null = null;
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
      log.warn('supervisord unreachable; working from events', { reason, error: errorText(err) });
      return;
    }
    this.works = true;
    (quiet ? log.debug : log.info)('resync', { reason, processes: infos.length });
    const seen = new Set<string>();
    for (const info of infos) {
      const name = { group: info.group, process: info.name };
      if (this.subject.isSelf(name)) continue;
      const t = this.subject.track(name);
      if (t === null) continue;
      seen.add(namespec(name));
      await this.compare(t, info, seqAtStart, reason);
    }
    for (const [key, t] of [...this.subject.tracked()]) {
      if (seen.has(key) || t.state === null) continue;
      log.info('process gone from supervisord; servers to maint and forgotten', { process: key });
      this.subject.forget(key);
    }
  }

  private async compare(t: Resyncable, info: ProcessInfo, seqAtStart: number, reason: string): Promise<void> {
    // An event handled since we asked is newer than this answer.
    if (t.lastEventSeq > seqAtStart) return;
    const livePid = info.state === 'RUNNING' || info.state === 'STOPPING' ? info.pid : null;
    // Same state, other pid: it was restarted while we were not told (lost events); treat as new.
    const samePid = t.pid === null || livePid === null || t.pid === livePid;
    if (t.state === info.state && samePid) {
      t.pid = livePid ?? t.pid;
      return;
    }
    const process = namespec(t.name);
    // Ready in HAProxy is not warm: a process restarted while no listener ran is ready there, and cold.
    if (t.state === null && info.state === 'RUNNING' && this.deps.apis.length === 0 && this.deps.recorded?.has(process) === true && this.subject.wasWarm(t, livePid)) {
      // Agent only: no HAProxy to read, and warming again would answer maint meanwhile to every load
      // balancer; the previous listener's record that it warmed this very pid is the evidence.
      this.deps.log.info('resync: running and warmed by the previous listener; left ready', { process });
      this.subject.adopt(t, livePid);
      return;
    }
    if (t.state === null && info.state === 'RUNNING' && this.subject.wasWarm(t, livePid) && (await this.alreadyReady(t.servers))) {
      if (t.lastEventSeq > seqAtStart) return;
      this.deps.log.info('resync: running and ready in haproxy; left ready', { process });
      this.subject.adopt(t, livePid);
      return;
    }
    this.deps.log.info('resync: state differs', { process, known: t.state, actual: info.state, known_pid: t.pid, pid: livePid, reason });
    this.subject.transition(t, info.state, livePid);
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
