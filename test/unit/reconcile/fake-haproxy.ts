// An in-memory stand-in for one HAProxy stats socket, for unit tests of the reconcile core only.

import { HaproxyCommandError, HaproxyConnectError } from '../../../src/errors.js';
import type { ServerStateRow } from '../../../src/haproxy/replies.js';
import type { AdminState, ServerRef } from '../../../src/haproxy/types.js';
import type { RuntimeApi, ServersStateDump } from '../../../src/haproxy/api.js';

const BITS: Record<AdminState, number> = { maint: 0x01, drain: 0x08, ready: 0 };

export class FakeHaproxy implements RuntimeApi {
  down = false;
  pid = 100;
  /** `show info` Version: by default Debian 11's, the oldest supported. */
  version = '2.2.9-2+deb11u6';
  private startedAt = Date.now();
  readonly admin = new Map<string, number>();
  readonly commands: string[] = [];
  /** Connections opened for set server (one per setServerStates call). */
  connections = 0;
  /** `show servers state` calls of their own (not chained after set server). */
  reads = 0;
  /** Servers on which `set server` is accepted but does nothing (like a tracked server). */
  readonly stuck = new Set<string>();

  constructor(
    readonly label: string,
    readonly servers: Record<string, { addr: string; port: number }>,
  ) {
    this.reset();
  }

  /** HAProxy restarted: new pid (unless a restart got the same one back), runtime state back to the config's (every server ready). */
  restart(opts: { samePid?: boolean } = {}): void {
    if (opts.samePid !== true) this.pid += 1;
    this.startedAt = Date.now();
    this.reset();
  }

  stateOf(key: string): AdminState {
    const bits = this.admin.get(key) ?? 0;
    return bits & 0x23 ? 'maint' : bits & 0x18 ? 'drain' : 'ready';
  }

  async setServerState(ref: ServerRef, state: AdminState): Promise<void> {
    this.check();
    const key = `${ref.backend}/${ref.server}`;
    this.commands.push(`set server ${key} state ${state}`);
    if (!this.admin.has(key)) throw new HaproxyCommandError(this.label, key, 'No such server.\n\n');
    if (!this.stuck.has(key)) this.admin.set(key, BITS[state]);
  }

  /** Like HAProxy with chained commands: one connection; a refusal is per command; the read-back chained last. */
  async setServerStates(
    changes: readonly { ref: ServerRef; state: AdminState }[],
  ): Promise<{ answers: (string | null)[]; dump: ServersStateDump }> {
    this.check();
    this.connections += 1;
    const answers = changes.map(({ ref, state }) => {
      const key = `${ref.backend}/${ref.server}`;
      this.commands.push(`set server ${key} state ${state}`);
      if (!this.admin.has(key)) return 'No such server.';
      if (!this.stuck.has(key)) this.admin.set(key, BITS[state]);
      return null;
    });
    return { answers, dump: this.dump() };
  }

  /** Every server's state; the text is a stand-in for HAProxy's (one `backend/server admin` per line). */
  async dumpServersState(): Promise<ServersStateDump> {
    this.check();
    this.reads += 1;
    return this.dump();
  }

  private dump(): ServersStateDump {
    const rows = this.rows(undefined);
    return { rows, text: rows.map((r) => `${r.backend}/${r.server} ${r.adminState}`).join('\n') + '\n' };
  }

  async showServersState(backend?: string): Promise<ServerStateRow[]> {
    this.check();
    this.reads += 1;
    return this.rows(backend);
  }

  private rows(backend: string | undefined): ServerStateRow[] {
    const rows: ServerStateRow[] = [];
    for (const [key, where] of Object.entries(this.servers)) {
      const [be, srv] = key.split('/') as [string, string];
      if (backend !== undefined && be !== backend) continue;
      rows.push(row(be, srv, where.addr, where.port, this.admin.get(key) ?? 0));
    }
    return rows;
  }

  async showInfo(): Promise<Record<string, string>> {
    this.check();
    // What every version has (2.2 has no Start_time_sec).
    const uptime = Math.floor((Date.now() - this.startedAt) / 1000);
    return { Name: 'HAProxy', Version: this.version, Pid: String(this.pid), Uptime_sec: String(uptime) };
  }

  private check(): void {
    if (this.down) throw new HaproxyConnectError(this.label, 'connect ECONNREFUSED');
  }

  private reset(): void {
    for (const key of Object.keys(this.servers)) this.admin.set(key, 0);
  }
}

function row(backend: string, server: string, addr: string, port: number, admin: number): ServerStateRow {
  return {
    backendId: 1,
    backend,
    serverId: 1,
    server,
    addr,
    port,
    opState: admin & 0x23 ? 0 : 2,
    adminState: admin,
  } as unknown as ServerStateRow;
}
