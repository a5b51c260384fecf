// The one fake HAProxy: servers and their admin states, answering the stats-socket commands the listener
// sends (`set server … state`, `show servers state`, `show info`) as HAProxy 2.6 does. Unit tests wrap it
// in memory (test/unit/reconcile/fake-haproxy.ts); the benchmarks serve it on a socket (bench/stub-worker.ts).

export type FakeAdminState = 'ready' | 'maint' | 'drain';

/** srv_admin_state bits HAProxy sets for each `set server … state`. */
export const ADMIN_BITS: Readonly<Record<FakeAdminState, number>> = { ready: 0, maint: 0x01, drain: 0x08 };

export interface FakeServer {
  readonly backend: string;
  readonly server: string;
  readonly addr: string;
  readonly port: number;
}

export interface FakeServerRow extends FakeServer {
  readonly backendId: number;
  readonly serverId: number;
  /** 0 (stopped) while in maint, 2 (running) otherwise. */
  readonly opState: number;
  readonly adminState: number;
}

// `show servers state` as HAProxy 2.6 prints it (test/fixtures/haproxy/2.6/show-servers-state.txt): version line,
// header, one row per server, then the empty line that ends every answer.
const STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight ' +
  'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state ' +
  'bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr ' +
  'srv_agent_addr srv_agent_port';
const SET_SERVER = /^set server ([A-Za-z0-9_.:-]+)\/([A-Za-z0-9_.:-]+) state (ready|maint|drain)$/;

export class FakeServers {
  /** srv_admin_state of every `backend/server`; tests may set raw bits (0x02: maint through a tracked server). */
  readonly admin = new Map<string, number>();
  /** Servers on which `set server` is accepted but does nothing (like a tracked server). */
  readonly stuck = new Set<string>();

  constructor(readonly servers: readonly FakeServer[]) {
    this.reset();
  }

  /** Every server back to the config's state (ready), as after a restart of HAProxy. */
  reset(): void {
    for (const s of this.servers) this.admin.set(`${s.backend}/${s.server}`, 0);
  }

  has(key: string): boolean {
    return this.admin.has(key);
  }

  /** The state `set server` would have left (maint bits: forced, inherited, resolution). */
  stateOf(key: string): FakeAdminState {
    const bits = this.admin.get(key) ?? 0;
    return bits & 0x23 ? 'maint' : bits & 0x18 ? 'drain' : 'ready';
  }

  /** `set server key state`; false when there is no such server. */
  set(key: string, state: FakeAdminState): boolean {
    if (!this.admin.has(key)) return false;
    if (!this.stuck.has(key)) this.admin.set(key, ADMIN_BITS[state]);
    return true;
  }

  rows(backend?: string): FakeServerRow[] {
    return this.servers
      .map((s, i) => ({ ...s, i }))
      .filter((s) => backend === undefined || s.backend === backend)
      .map(({ i, ...s }) => {
        const adminState = this.admin.get(`${s.backend}/${s.server}`) ?? 0;
        return { ...s, backendId: 3, serverId: i + 1, opState: adminState & 0x23 ? 0 : 2, adminState };
      });
  }

  /** The answer to one command of a CLI line, as HAProxy 2.6 writes it. */
  answer(command: string, info: () => Readonly<Record<string, string | number>>): string {
    const set = SET_SERVER.exec(command);
    if (set !== null) return this.set(`${set[1]}/${set[2]}`, set[3] as FakeAdminState) ? '\n' : 'No such server.\n\n';
    if (command === 'show servers state' || command.startsWith('show servers state ')) {
      const backend = command.slice('show servers state'.length).trim();
      const rows = this.rows(backend === '' ? undefined : backend);
      if (backend !== '' && rows.length === 0) return "Can't find backend.\n\n";
      const lines = rows.map(
        (r) => `${r.backendId} ${r.backend} ${r.serverId} ${r.server} ${r.addr} ${r.opState} ${r.adminState} 1 1 0 15 3 2 6 0 0 0 - ${r.port} - 0 0 - - 0`,
      );
      return `1\n${STATE_HEADER}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}\n`;
    }
    if (command === 'show info') {
      return `${Object.entries(info())
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}\n\n`;
    }
    return 'Unknown command. Please enter one of the following commands only :\n\n';
  }
}
