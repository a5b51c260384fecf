// Converges one HAProxy stats socket to the desired state; one applier per socket, each on its own.

import type { Clock } from '../clock.js';
import { errorText, HaproxyCommandError } from '../errors.js';
import type { ServerStateRow } from '../haproxy/replies.js';
import { adminStateOf, infoIdentity } from '../haproxy/replies.js';
import { serverKey, type AdminState, type ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { DesiredServer, DesiredState } from './desired.js';

/** The part of the HAProxy client an applier uses (HaproxyClient satisfies it). */
export interface RuntimeApi {
  readonly label: string;
  /**
   * Several changes in as few connections as fit, with the servers' state read back on the last: per
   * change null (accepted) or HAProxy's refusal text, and the rows read back.
   */
  setServerStates(
    changes: readonly { ref: ServerRef; state: AdminState }[],
  ): Promise<{ answers: (string | null)[]; rows: ServerStateRow[] }>;
  showServersState(backend?: string): Promise<ServerStateRow[]>;
  showInfo(): Promise<Record<string, string>>;
}

export interface ApplierOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** How often to look for an HAProxy restart (`show info` Pid / Start_time_sec). */
  readonly heartbeatMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly dryRun: boolean;
  /**
   * Least time between two passes while decisions keep coming (0: none); the first is never delayed. A pass
   * that carries decisions for several servers doubles it, up to batchWindowMaxMs; one for a single server
   * sets it back.
   */
  readonly batchWindowMs: number;
  readonly batchWindowMaxMs: number;
}

export interface ApplierStatus {
  readonly socket: string;
  readonly reachable: boolean | null;
  /** Servers whose latest decision is not yet on this socket. */
  readonly pending: number;
}

export class SocketApplier {
  /** serverKey → version of the decision last applied (or given up on) on this socket. */
  private readonly applied = new Map<string, number>();
  private identity: string | null = null;
  private reachable: boolean | null = null;
  private backoffMs: number;
  /** Ends the current wait early on a kick (unset while kicks must not shorten it). */
  private wake: (() => void) | null = null;
  /** Ends the current wait, whatever it is: for stop(). */
  private interrupt: (() => void) | null = null;
  private woken = false;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private nextHeartbeat = 0;
  private lastPassAt = Number.NEGATIVE_INFINITY;
  private windowMs: number;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly api: RuntimeApi,
    private readonly desired: DesiredState,
    private readonly opts: ApplierOptions,
  ) {
    this.backoffMs = opts.backoffMinMs;
    this.windowMs = opts.batchWindowMs;
  }

  get label(): string {
    return this.api.label;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.interrupt?.();
    this.kick();
    await this.loopDone;
  }

  /** Something changed in the desired state: look again now. */
  kick(): void {
    this.woken = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  status(): ApplierStatus {
    return { socket: this.label, reachable: this.reachable, pending: this.pendingServers().length };
  }

  /** Resolves once everything desired is on this socket (for tests and the restart command). */
  whenIdle(): Promise<void> {
    if (this.pendingServers().length === 0 && this.reachable !== false) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pendingServers(): DesiredServer[] {
    const out: DesiredServer[] = [];
    for (const [key, want] of this.desired.all()) {
      if (this.applied.get(key) !== want.version) out.push(want);
    }
    return out;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      try {
        if (this.opts.clock.now() >= this.nextHeartbeat) await this.heartbeat();
        if (this.pendingServers().length > 0 && this.running) {
          // The first decision after a quiet spell goes out at once; in a burst, passes are spaced by the
          // batch window so that the decisions made meanwhile share one connection. The window widens while
          // the burst lasts: a connection per pass is most of the listener's cost, and each one leaves
          // garbage that outlives the young generation (bench/memory.ts).
          // A chain of decisions for one server (maint, then ready after a quick warm-up) is not a burst: it
          // keeps the narrow window.
          const wait = this.lastPassAt + this.windowMs - this.opts.clock.now();
          if (wait > 0) await this.idle(wait, true);
          const batch = this.pendingServers();
          this.windowMs = batch.length > 1 ? Math.min(this.opts.batchWindowMaxMs, this.windowMs * 2) : this.opts.batchWindowMs;
          this.lastPassAt = this.opts.clock.now();
          await this.applyBatch(batch);
        }
        this.recovered();
        if (this.pendingServers().length === 0) this.notifyIdle();
        await this.idle(Math.max(0, this.nextHeartbeat - this.opts.clock.now()));
      } catch (err) {
        if (!this.running) break;
        this.outage(err);
        await this.idle(this.backoffMs, true);
        this.backoffMs = Math.min(this.opts.backoffMaxMs, this.backoffMs * 2);
        // After an outage, look for a restart before applying anything.
        this.nextHeartbeat = 0;
      }
    }
  }

  /** HAProxy forgets runtime state on reload/restart: a new (Pid, Start_time_sec) means re-apply all. */
  private async heartbeat(): Promise<void> {
    const info = await this.api.showInfo();
    const id = infoIdentity(info);
    const identity = `${id.pid}@${id.startTime}`;
    if (this.identity !== null && this.identity !== identity) {
      this.opts.log.warn('haproxy restarted; re-applying desired state', {
        socket: this.label,
        was: this.identity,
        now: identity,
        servers: this.applied.size,
      });
      this.applied.clear();
    }
    this.identity = identity;
    this.nextHeartbeat = this.opts.clock.now() + this.opts.heartbeatMs;
  }

  /**
   * Every pending decision in one pass: the `set server` commands chained on as few connections as fit,
   * the read-back chained on the last — a burst of events costs one connection, not two per decision.
   * A connection failure throws: nothing is recorded as applied, the pass is re-run.
   */
  private async applyBatch(wants: readonly DesiredServer[]): Promise<void> {
    const { log } = this.opts;
    const fieldsOf = (want: DesiredServer) => ({ socket: this.label, server: serverKey(want.ref), state: want.state, process: want.owner });
    if (this.opts.dryRun) {
      for (const want of wants) {
        log.info('dry-run: would send', { ...fieldsOf(want), command: `set server ${serverKey(want.ref)} state ${want.state}` });
        this.applied.set(serverKey(want.ref), want.version);
      }
      return;
    }
    const { answers, rows: readBack } = await this.api.setServerStates(wants.map((w) => ({ ref: w.ref, state: w.state })));
    const accepted: DesiredServer[] = [];
    wants.forEach((want, i) => {
      const refusal = answers[i] ?? null;
      if (refusal === null) {
        accepted.push(want);
        return;
      }
      // HAProxy refused (no such server, permission denied): retrying the same decision won't help.
      log.error('haproxy refused command', {
        ...fieldsOf(want),
        error: new HaproxyCommandError(this.label, `set server ${serverKey(want.ref)} state ${want.state}`, refusal).message,
      });
      this.applied.set(serverKey(want.ref), want.version);
    });
    const rows = new Map(readBack.map((row) => [`${row.backend}/${row.server}`, row]));
    for (const want of accepted) {
      const key = serverKey(want.ref);
      const row = rows.get(key);
      const now = row === undefined ? null : adminStateOf(row.adminState);
      if (now === want.state) {
        log.info('server state set', fieldsOf(want));
      } else {
        // "Success" can be a no-op (tracked server, `disabled` keyword): say so, don't loop on it.
        log.warn('haproxy accepted the command but the server is not in that state', {
          ...fieldsOf(want),
          actual: now,
          admin_bits: row?.adminState,
        });
      }
      // The desired version may have moved while we talked to HAProxy; record what we applied.
      this.applied.set(key, want.version);
    }
  }

  private outage(err: unknown): void {
    const message = errorText(err);
    if (this.reachable !== false) {
      this.opts.log.error('haproxy unreachable; will keep retrying', {
        socket: this.label,
        error: message,
      });
    }
    this.reachable = false;
  }

  private recovered(): void {
    if (this.reachable === false) {
      this.opts.log.info('haproxy reachable again', { socket: this.label });
    }
    this.reachable = true;
    this.backoffMs = this.opts.backoffMinMs;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Wait for a kick or the timeout; during backoff kicks do not shorten the wait. */
  private idle(ms: number, ignoreKicks = false): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (!ignoreKicks && this.woken) return Promise.resolve();
    // A plain timer and callbacks: an AbortController per wait (one per event in a burst) was a fifth of
    // what the listener promoted to the old generation.
    return new Promise<void>((resolve) => {
      let cancel: (() => void) | null = null;
      const done = (): void => {
        cancel?.();
        cancel = null;
        this.wake = null;
        this.interrupt = null;
        resolve();
      };
      cancel = this.opts.clock.timer(ms, done);
      this.interrupt = done;
      if (!ignoreKicks) this.wake = done;
    });
  }
}
