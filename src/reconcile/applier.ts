// Converges one HAProxy stats socket to the desired state; one applier per socket, each on its own.

import { KeptFile } from '../atomic-file.js';
import type { Clock } from '../clock.js';
import { errorText, HaproxyCommandError } from '../errors.js';
import type { RuntimeApi, ServersStateDump } from '../haproxy/api.js';
import {
  adminStateOf,
  describeProcess,
  infoIdentity,
  isNewProcess,
  refusalFix,
  SUPPORTED_VERSIONS,
  versionOf,
  versionSupport,
  type ProcessIdentity,
} from '../haproxy/replies.js';
import { serverKey, type AdminState } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { DesiredServer, DesiredState } from './desired.js';
import { looser } from './policy.js';

/** Least time between the starts of two passes; the first decision after a quiet spell goes out at once. */
const PASS_GAP_MS = 10;

interface ApplierOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** How often to look for an HAProxy restart (`show info` Pid / Uptime_sec) and read every state. */
  readonly heartbeatMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly dryRun: boolean;
  /** HAProxy's server state file for this socket, rewritten whenever what it would restore changes. */
  readonly stateFile: string | null;
}

export class SocketApplier {
  /** serverKey → version of the decision last applied (or given up on) on this socket. */
  private readonly applied = new Map<string, number>();
  /** serverKey → admin state last read back from this socket. */
  private seen = new Map<string, AdminState>();
  /** Set when HAProxy restarted: the states seen on the old process, until every decision is checked again. */
  private before: Map<string, AdminState> | null = null;
  private lastDump: ServersStateDump | null = null;
  private identity: ProcessIdentity | null = null;
  /** The HAProxy version last logged (`show info` Version). */
  private version: string | null | undefined = undefined;
  private reachable: boolean | null = null;
  private backoffMs: number;
  /** HAProxy's server state file for this socket; null without one, or in a dry run. */
  private readonly file: KeptFile | null;
  /** What the file last written restores (restoredSignature). */
  private written: string | null = null;
  /** Ends the current wait early on a kick (unset while kicks must not shorten it). */
  private wake: (() => void) | null = null;
  /** Ends the current wait, whatever it is: for stop(). */
  private interrupt: (() => void) | null = null;
  private woken = false;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private nextHeartbeat = 0;
  private lastPassAt = Number.NEGATIVE_INFINITY;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly api: RuntimeApi,
    private readonly desired: DesiredState,
    private readonly opts: ApplierOptions,
  ) {
    this.backoffMs = opts.backoffMinMs;
    this.file =
      opts.stateFile === null || opts.dryRun
        ? null
        : new KeptFile(opts.stateFile, opts.log, 'haproxy server state file', 'error', { socket: api.label });
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

  /** Resolves once everything desired is on this socket (for shutdown and tests). */
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
        // Everything pending goes out in one pass, on one connection; what comes meanwhile, in the next,
        // PASS_GAP_MS after this one began: a flood of events then costs a connection per gap, not per event.
        if (this.running && (this.before !== null || this.pendingServers().length > 0)) {
          const wait = this.lastPassAt + PASS_GAP_MS - this.opts.clock.now();
          if (wait > 0) await this.idle(wait, true);
          this.lastPassAt = this.opts.clock.now();
          await this.pass();
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

  /**
   * HAProxy forgets runtime state on a reload or restart unless it loads a state file: a new process (a new
   * Pid, or an uptime that went back) means every decision is checked against it. Every state is read too,
   * so the state file follows changes made by others (an operator's drain) and the check has a "before".
   */
  private async heartbeat(): Promise<void> {
    const info = await this.api.showInfo();
    const identity = infoIdentity(info);
    const fresh = this.identity === null || isNewProcess(this.identity, identity);
    if (this.identity !== null && fresh) {
      this.opts.log.warn('haproxy restarted; checking every server against the listener', {
        socket: this.label,
        was: describeProcess(this.identity),
        now: describeProcess(identity),
      });
      this.before ??= new Map(this.seen);
    }
    this.identity = identity;
    if (fresh) this.noteVersion(info);
    // Not written while the check is due: the new process may have started without the file.
    await this.record(await this.api.dumpServersState(), this.before === null);
    this.nextHeartbeat = this.opts.clock.now() + this.opts.heartbeatMs;
  }

  /**
   * Names the HAProxy version when the socket is first reached and when a new process brings another (an
   * upgrade shows at its reload), warning when it is outside the supported range: the listener carries on
   * with it either way.
   */
  private noteVersion(info: Record<string, string>): void {
    const version = versionOf(info);
    const text = version?.text ?? info['Version'] ?? null;
    if (text === this.version) return;
    this.version = text;
    const support = versionSupport(version);
    if (support.supported) {
      this.opts.log.info('haproxy version', { socket: this.label, version: text, supported: SUPPORTED_VERSIONS.text });
    } else {
      this.opts.log.warn('haproxy version not supported; carrying on', { socket: this.label, version: text, reason: support.reason });
    }
  }

  /**
   * Sends every pending decision (after a restart: every decision) in one chain, the read-back on the same
   * connection. A connection failure throws: nothing is recorded as applied, the pass is re-run.
   */
  private async pass(): Promise<void> {
    const before = this.before;
    const wants = before === null ? this.pendingServers() : [...this.desired.all()].map(([, want]) => want);
    // Tightening is always safe; loosening needs the live state first (the heartbeat's read, when fresh).
    const live = before !== null ? this.seen : wants.some((w) => w.state === 'drain') ? await this.look() : null;
    const changes: DesiredServer[] = [];
    for (const want of wants) {
      const key = serverKey(want.ref);
      const isNew = this.applied.get(key) !== want.version;
      const now = live?.get(key);
      const why = now === undefined ? null : this.keepReason(want, now, isNew, before);
      if (why !== null) {
        this.opts.log.info('server state kept', { ...this.fieldsOf(want), state: now, instead_of: want.state, why });
        this.applied.set(key, want.version);
      } else if (isNew || now !== want.state) {
        changes.push(want);
      }
    }
    if (this.opts.dryRun) {
      for (const want of changes) {
        const command = `set server ${serverKey(want.ref)} state ${want.state}`;
        this.opts.log.info('dry-run: would send', { ...this.fieldsOf(want), command });
        this.applied.set(serverKey(want.ref), want.version);
      }
    } else if (changes.length > 0) {
      await this.send(changes);
    } else if (before !== null && this.lastDump !== null) {
      await this.writeFile(this.lastDump, true);
    }
    this.before = null;
  }

  /**
   * Why a decision is not sent although it differs from HAProxy's state, or null to send it. The listener
   * never loosens a state it did not itself decide: drain from maint puts a server back in service for
   * cookie-persistent visitors and health checks, and a state tighter than the listener's decision that
   * was already there before HAProxy restarted is someone else's (an operator's, `restart`'s), restored
   * from the state file.
   */
  private keepReason(want: DesiredServer, now: AdminState, isNew: boolean, before: Map<string, AdminState> | null): string | null {
    if (want.state === 'drain' && now === 'maint') return 'drain would put a server in maint back in service';
    if (!isNew && before !== null && looser(want.state, now)) {
      const was = before.get(serverKey(want.ref));
      if (was !== undefined && !looser(was, now)) return 'tighter than the listener decided, as before haproxy restarted';
    }
    return null;
  }

  private async look(): Promise<Map<string, AdminState>> {
    await this.record(await this.api.dumpServersState(), true);
    return this.seen;
  }

  private async send(changes: readonly DesiredServer[]): Promise<void> {
    const { log } = this.opts;
    const was = this.seen;
    const { answers, dump } = await this.api.setServerStates(changes.map((w) => ({ ref: w.ref, state: w.state })));
    await this.record(dump, true, this.before !== null);
    changes.forEach((want, i) => {
      const key = serverKey(want.ref);
      // The desired version may have moved while we talked to HAProxy; record what we applied.
      this.applied.set(key, want.version);
      const refusal = answers[i] ?? null;
      if (refusal !== null) {
        // HAProxy refused (no such server, permission denied): retrying the same decision won't help.
        const command = `set server ${key} state ${want.state}`;
        log.error('haproxy refused command', {
          ...this.fieldsOf(want),
          error: new HaproxyCommandError(this.label, command, refusal).message,
          fix: refusalFix(refusal, key, this.label),
        });
        return;
      }
      const now = this.seen.get(key);
      if (now !== want.state) {
        // "Success" can be a no-op (tracked server, `disabled` keyword): say so, don't loop on it.
        log.warn('haproxy accepted the command but the server is not in that state', { ...this.fieldsOf(want), actual: now });
      } else if (was.get(key) !== now) {
        log.info('server state set', this.fieldsOf(want));
      } else {
        log.debug('server state confirmed', this.fieldsOf(want));
      }
    });
  }

  /** Remembers a read-back and, when asked and something a reload restores changed, writes the state file. */
  private async record(dump: ServersStateDump, write: boolean, force = false): Promise<void> {
    this.lastDump = dump;
    this.seen = new Map(dump.rows.map((r) => [`${r.backend}/${r.server}`, adminStateOf(r.adminState)]));
    if (write) await this.writeFile(dump, force);
  }

  private async writeFile(dump: ServersStateDump, force: boolean): Promise<void> {
    if (this.file === null) return;
    const signature = restoredSignature(dump.rows);
    if (!force && signature === this.written) return;
    // A failure is logged: HAProxy then restores an older file on its next reload, which the heartbeat's check corrects.
    if (await this.file.write(dump.text)) this.written = signature;
  }

  private fieldsOf(want: DesiredServer) {
    return { socket: this.label, server: serverKey(want.ref), state: want.state, process: want.owner };
  }

  private outage(err: unknown): void {
    if (this.reachable !== false) {
      this.opts.log.error('haproxy unreachable; will keep retrying', { socket: this.label, error: errorText(err) });
    }
    this.reachable = false;
  }

  private recovered(): void {
    if (this.reachable === false) this.opts.log.info('haproxy reachable again', { socket: this.label });
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

/** What a reload restores per server: admin bits and weight. Dumps with the same signature restore the same. */
function restoredSignature(rows: readonly { backend: string; server: string; adminState: number; uweight?: number }[]): string {
  return rows.map((r) => `${r.backend}/${r.server}=${r.adminState}:${r.uweight ?? ''}`).join(' ');
}
