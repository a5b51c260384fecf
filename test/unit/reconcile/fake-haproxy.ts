// The fake HAProxy (test/support/fake-haproxy.ts) in memory, as the RuntimeApi the reconcile core talks to: unit tests only.

import { HaproxyCommandError, HaproxyConnectError } from '../../../src/errors.js';
import type { ServerStateRow } from '../../../src/haproxy/replies.js';
import type { AdminState, ServerRef } from '../../../src/haproxy/types.js';
import type { RuntimeApi, ServersStateDump } from '../../../src/haproxy/api.js';
import { FakeServers } from '../../support/fake-haproxy.js';

export class FakeHaproxy implements RuntimeApi {
  down = false;
  pid = 100;
  /** `show info` Version: by default Debian 11's, the oldest supported. */
  version = '2.2.9-2+deb11u6';
  private startedAt = Date.now();
  private readonly model: FakeServers;
  /** srv_admin_state of every `backend/server`; tests may set raw bits. */
  readonly admin: Map<string, number>;
  readonly commands: string[] = [];
  /** Connections opened for set server (one per setServerStates call). */
  connections = 0;
  /** `show servers state` calls of their own (not chained after set server). */
  reads = 0;
  /** Servers on which `set server` is accepted but does nothing (like a tracked server). */
  readonly stuck: Set<string>;

  constructor(
    readonly label: string,
    servers: Record<string, { addr: string; port: number }>,
  ) {
    this.model = new FakeServers(
      Object.entries(servers).map(([key, where]) => {
        const [backend, server] = key.split('/') as [string, string];
        return { backend, server, ...where };
      }),
    );
    this.admin = this.model.admin;
    this.stuck = this.model.stuck;
  }

  /** HAProxy restarted: new pid (unless a restart got the same one back), runtime state back to the config's (every server ready). */
  restart(opts: { samePid?: boolean } = {}): void {
    if (opts.samePid !== true) this.pid += 1;
    this.startedAt = Date.now();
    this.model.reset();
  }

  stateOf(key: string): AdminState {
    return this.model.stateOf(key);
  }

  async setServerState(ref: ServerRef, state: AdminState): Promise<void> {
    this.check();
    const key = `${ref.backend}/${ref.server}`;
    this.commands.push(`set server ${key} state ${state}`);
    if (!this.model.set(key, state)) throw new HaproxyCommandError(this.label, key, 'No such server.\n\n');
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
      return this.model.set(key, state) ? null : 'No such server.';
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
    return this.model.rows(backend) as unknown as ServerStateRow[];
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
}
