import { describe, expect, it } from 'vitest';
import type { RestartArgs } from '../../../src/args.js';
import type { Clock } from '../../../src/clock.js';
import type { LiveHaproxy, LiveSupervisor } from '../../../src/commands/live.js';
import type { ServerStat } from '../../../src/commands/live.js';
import { restart } from '../../../src/commands/restart.js';
import { UsageError, XmlRpcFault } from '../../../src/errors.js';
import type { ServerStateRow } from '../../../src/haproxy/replies.js';
import type { AdminState, ServerRef } from '../../../src/haproxy/types.js';
import type { ProcessInfo } from '../../../src/supervisor/rpc.js';
import { config, info, stat } from './fixtures.js';

/** Virtual time: sleeping moves the clock on at once. */
function virtualClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => void (c.t += ms),
    timer: () => expect.fail('restart sets no timers'),
  };
  return c;
}

class FakeHaproxy implements LiveHaproxy {
  readonly commands: string[] = [];
  readonly rows = new Map<string, ServerStat>();
  constructor(readonly label: string, rows: ServerStat[]) {
    for (const r of rows) this.rows.set(`${r.proxy}/${r.server}`, { ...r });
  }
  async send(): Promise<string> {
    return '\n';
  }
  async setServerState(ref: ServerRef, state: AdminState): Promise<void> {
    const key = `${ref.backend}/${ref.server}`;
    this.commands.push(`set server ${key} state ${state}`);
    const row = this.rows.get(key) as ServerStat;
    this.rows.set(key, { ...row, status: state === 'ready' ? 'UP' : state.toUpperCase() });
  }
  async showStat(): Promise<ServerStat[]> {
    // Sessions drain one per look.
    for (const [k, r] of this.rows) if (r.scur > 0) this.rows.set(k, { ...r, scur: r.scur - 1 });
    return [...this.rows.values()];
  }
  async showInfo(): Promise<Record<string, string>> {
    return {};
  }
  async showServersState(): Promise<ServerStateRow[]> {
    return [];
  }
  status(key: string): string {
    return this.rows.get(key)?.status ?? '?';
  }
}

/** supervisord plus a pretend listener: after a start, the process's servers go UP some polls later. */
class FakeSupervisor implements LiveSupervisor {
  readonly calls: string[] = [];
  readonly infos: ProcessInfo[];
  /** Processes that never come back UP / go FATAL after a start. */
  readonly neverUp = new Set<string>();
  readonly fatal = new Set<string>();
  private pending = new Map<string, number>();
  constructor(infos: ProcessInfo[], private readonly haps: FakeHaproxy[], private readonly servers: Record<string, string>) {
    this.infos = infos;
  }
  async getAllProcessInfo(): Promise<ProcessInfo[]> {
    return this.infos.map((i) => ({ ...i }));
  }
  async getProcessInfo(name: string): Promise<ProcessInfo> {
    const i = this.find(name);
    const left = this.pending.get(name);
    if (left !== undefined) {
      if (left <= 0) {
        this.pending.delete(name);
        for (const h of this.haps) await h.setServerState(this.ref(name), 'ready');
      } else this.pending.set(name, left - 1);
    }
    return { ...i };
  }
  async stopProcess(name: string): Promise<boolean> {
    this.calls.push(`stop ${name}`);
    this.find(name).state = 'STOPPED';
    return true;
  }
  async startProcess(name: string): Promise<boolean> {
    this.calls.push(`start ${name}`);
    const i = this.find(name);
    if (this.fatal.has(name)) {
      i.state = 'FATAL';
      throw new XmlRpcFault(50, `SPAWN_ERROR: ${name}`);
    }
    i.state = 'RUNNING';
    i.pid += 1000;
    if (!this.neverUp.has(name)) this.pending.set(name, 3);
    return true;
  }
  private find(name: string): ProcessInfo {
    const i = this.infos.find((x) => `${x.group}:${x.name}` === name);
    if (i === undefined) throw new Error(`no ${name}`);
    return i;
  }
  private ref(name: string): ServerRef {
    const [backend, server] = (this.servers[name] as string).split('/') as [string, string];
    return { backend, server };
  }
}

const ARGS: RestartArgs = { all: true, names: [], drainTimeoutMs: 10_000, readyTimeoutMs: 60_000, pauseMs: 0, takeOut: 'drain' };

function setup(rows: ServerStat[] = [stat('site', 'web1', 'UP', 2), stat('site', 'web2', 'UP')]) {
  const haps = [new FakeHaproxy('/run/a.sock', rows), new FakeHaproxy('tcp://127.0.0.1:9999', rows)];
  const sup = new FakeSupervisor([info('web1', 'web1', 'RUNNING', 11), info('web2', 'web2', 'RUNNING', 12)], haps, {
    'web1:web1': 'site/web1',
    'web2:web2': 'site/web2',
  });
  const lines: string[] = [];
  const clock = virtualClock();
  const run = (args: Partial<RestartArgs> = {}) =>
    restart({ config: config(), haproxies: haps, supervisor: sup, clock, out: (l) => lines.push(l), args: { ...ARGS, ...args }, pollMs: 100 });
  return { haps, sup, lines, run };
}

describe('restart', () => {
  it('drains, waits for sessions, takes out, restarts, waits for UP; one process after the other', async () => {
    const { haps, sup, lines, run } = setup();
    expect(await run()).toBe(0);
    expect(sup.calls).toEqual(['stop web1:web1', 'start web1:web1', 'stop web2:web2', 'start web2:web2']);
    expect(haps[0]?.commands).toEqual([
      'set server site/web1 state drain',
      'set server site/web1 state maint',
      'set server site/web1 state ready', // the pretend listener
      'set server site/web2 state drain',
      'set server site/web2 state maint',
      'set server site/web2 state ready',
    ]);
    const text = lines.join('\n');
    expect(text).toMatch(/^\[\s+0\.0s\] rolling restart of 2 process\(es\): web1:web1, web2:web2/);
    expect(text).toContain('web1:web1: no sessions left');
    expect(text).toContain("web1:web1: RUNNING; waiting for the listener's warm-up");
    expect(text).toMatch(/web2:web2: UP on every socket, \d+\.\ds after the restart/);
    expect(text).toMatch(/done: 2 process\(es\) restarted$/);
  });

  it('with --maint takes the server straight to maint', async () => {
    const { haps, run } = setup();
    expect(await run({ names: ['web1'], all: false, takeOut: 'maint' })).toBe(0);
    expect(haps[0]?.commands.slice(0, 2)).toEqual(['set server site/web1 state maint', 'set server site/web1 state ready']);
  });

  it('takes a server out again when HAProxy forgot the drain while sessions end (a reload without state file)', async () => {
    const { haps, lines, run } = setup([stat('site', 'web1', 'UP', 3), stat('site', 'web2', 'UP')]);
    const [a] = haps as [FakeHaproxy, FakeHaproxy];
    const showStat = a.showStat.bind(a);
    let looks = 0;
    a.showStat = async () => {
      looks += 1;
      // The second look during the drain wait: HAProxy was reloaded and web1 is UP again.
      if (looks === 3) a.rows.set('site/web1', { ...(a.rows.get('site/web1') as ServerStat), status: 'UP' });
      return showStat();
    };
    expect(await run({ names: ['web1'], all: false })).toBe(0);
    expect(lines.join('\n')).toContain('web1:web1: site/web1 was back in service on /run/a.sock (haproxy reloaded?); set to drain again');
    expect(a.commands.slice(0, 3)).toEqual(['set server site/web1 state drain', 'set server site/web1 state drain', 'set server site/web1 state maint']);
  });

  it('goes on after --drain-timeout with a warning when sessions stay', async () => {
    const { lines, sup, run } = setup([stat('site', 'web1', 'UP', 1_000_000), stat('site', 'web2', 'UP')]);
    expect(await run({ names: ['web1'], all: false, drainTimeoutMs: 1000 })).toBe(0);
    expect(lines.join('\n')).toMatch(/web1:web1: WARNING \d+ session\(s\) still open after --drain-timeout; restarting anyway/);
    expect(sup.calls).toEqual(['stop web1:web1', 'start web1:web1']);
  });

  it('stops at a process that does not come back UP and leaves the rest untouched', async () => {
    const { haps, sup, lines, run } = setup();
    sup.neverUp.add('web1:web1');
    expect(await run({ readyTimeoutMs: 5000 })).toBe(1);
    expect(sup.calls).toEqual(['stop web1:web1', 'start web1:web1']);
    expect(haps[0]?.status('site/web2')).toBe('UP');
    const text = lines.join('\n');
    expect(text).toContain('restart stopped at web1:web1: not UP within --ready-timeout 5.0s (haproxy: /run/a.sock site/web1 MAINT');
    expect(text).toContain('not restarted (untouched): web2:web2');
  });

  it('stops when the process does not start', async () => {
    const { sup, lines, run } = setup();
    sup.fatal.add('web1:web1');
    expect(await run()).toBe(1);
    expect(lines.join('\n')).toContain('restart stopped at web1:web1: did not start: supervisord fault 50: SPAWN_ERROR: web1:web1');
  });

  it('refuses to take out the last server in service of a backend, touching nothing', async () => {
    const { haps, sup, lines, run } = setup([stat('site', 'web1', 'UP'), stat('site', 'web2', 'MAINT')]);
    expect(await run({ names: ['web1'], all: false })).toBe(1);
    expect(sup.calls).toEqual([]);
    expect(haps.flatMap((h) => h.commands)).toEqual([]);
    expect(lines.join('\n')).toContain(
      'restart stopped at web1:web1: refusing to take site/web1 out: backend site on /run/a.sock would have no server in service (others: web2 MAINT)',
    );
  });

  it('refuses a name the config does not map before touching anything', async () => {
    const { sup, run } = setup();
    sup.infos.push(info('other', 'other'));
    await expect(run({ names: ['other'], all: false })).rejects.toThrow(UsageError);
    expect(sup.calls).toEqual([]);
  });
});
