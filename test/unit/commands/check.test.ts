import { describe, expect, it } from 'vitest';
import { check, levelOf } from '../../../src/commands/check.js';
import type { LiveHaproxy } from '../../../src/commands/live.js';
import type { ServerStateRow } from '../../../src/haproxy/replies.js';
import type { Probe } from '../../../src/warmup/probe.js';
import type { ListenerFinding } from '../../../src/commands/find-listener.js';
import type { StateFileFs } from '../../../src/commands/check.js';
import type { Who } from '../../../src/commands/listener-user.js';
import type { ProcessInfo } from '../../../src/supervisor/rpc.js';
import { ALL } from '../haproxy/fixtures.js';
import { config, info } from './fixtures.js';

const row = (backend: string, server: string, port = 8080): ServerStateRow =>
  ({ backendId: 1, backend, serverId: 1, server, addr: '127.0.0.1', port, opState: 2, adminState: 0 }) as unknown as ServerStateRow;

/** Answers like HAProxy at the given level (replies as captured from HAProxy 2.2, 2.6 and 3.0 alike). */
function fakeSocket(label: string, level: 'admin' | 'operator' | 'user', rows: ServerStateRow[], down = false, version = '2.6.12-1+deb12u4'): LiveHaproxy {
  return {
    label,
    async send(command) {
      if (down) throw new Error('connect ECONNREFUSED');
      if (command === 'set server') return level === 'admin' ? "Require 'backend/server'.\n\n" : 'Permission denied\n\n';
      if (command === 'show sess 0x1') return level === 'user' ? 'Permission denied\n\n' : 'Session not found.\n\n';
      throw new Error(`unexpected ${command}`);
    },
    async setServerState() {
      throw new Error('check must not change anything');
    },
    async showInfo() {
      if (down) throw new Error('connect ECONNREFUSED');
      return { Name: 'HAProxy', Version: version, Pid: '42' };
    },
    async showStat() {
      return [];
    },
    async showServersState() {
      if (down) throw new Error('connect ECONNREFUSED');
      return rows;
    },
  };
}

const ROWS = [row('site', 'web1'), row('site', 'web2'), row('pool', 'p0', 9000)];
const INFOS = [info('web1', 'web1'), info('web2', 'web2', 'STOPPED'), info('grp', 'p0')];

const RUNNING: ListenerFinding = { running: true, names: ['haproxy-sync:haproxy-sync'], pid: 7, detail: 'running under supervisord as haproxy-sync:haproxy-sync, pid 7' };
const NO_FILES = 'skip haproxy server_state_file: not set: an HAProxy reload forgets maint and drain until the listener sets them again';

/** A file system where only the listed paths exist; writable unless listed in `readOnly`. */
const fakeFs = (kinds: Record<string, 'file' | 'dir' | 'other'>, readOnly: readonly string[] = []) => (who: Who): StateFileFs => ({
  kind: (path) => kinds[path] ?? null,
  writable: (path) => !readOnly.includes(path),
  user: `${who.name} (${who.why})`,
});
/** The running listener's user (pid 7 in RUNNING). */
const LISTENER_USER: Who = { name: 'haproxy-sync', uid: 998, gids: [998], why: "the listener's user" };

async function run(sockets: LiveHaproxy[], infos = INFOS, probe: Probe | null = null, found: ListenerFinding = RUNNING, cfg = config()) {
  const lines: string[] = [];
  const seen: (readonly ProcessInfo[])[] = [];
  const code = await check({
    config: cfg,
    haproxies: sockets,
    supervisor: { getAllProcessInfo: async () => infos },
    probe,
    out: (l) => lines.push(l),
    locate: async (i) => {
      seen.push(i);
      return found;
    },
    fs: fakeFs({ '/var/lib/haproxy': 'dir', '/var/lib/haproxy/a.state': 'file', '/ro': 'dir' }, ['/ro']),
    userOf: (pid) => (pid === 7 ? LISTENER_USER : null),
  });
  return { code, lines, seen };
}

describe('levelOf', () => {
  it.each(['admin', 'operator', 'user'] as const)('tells %s without changing anything', async (level) => {
    expect(await levelOf(fakeSocket('s', level, []))).toBe(level);
  });

  // The replies `check` reads, as each version sends them on a socket of each level.
  describe.each(ALL)('with the replies captured from HAProxy $version', ({ reply, commandOf }) => {
    const captured = (level: 'admin' | 'operator' | 'user'): Pick<LiveHaproxy, 'send'> => ({
      async send(command) {
        const file = {
          'set server': { admin: 'set-server-usage.txt', operator: 'set-server-usage-operator.txt', user: 'set-server-usage-user.txt' },
          'show sess 0x1': { admin: 'show-sess-operator.txt', operator: 'show-sess-operator.txt', user: 'show-sess-user.txt' },
        }[command]?.[level];
        if (file === undefined) throw new Error(`unexpected ${command}`);
        expect(commandOf(file)).toBe(command);
        return reply(file);
      },
    });

    it.each(['admin', 'operator', 'user'] as const)('tells %s', async (level) => {
      expect(await levelOf(captured(level))).toBe(level);
    });
  });
});

describe('check: the HAProxy version of each socket', () => {
  const line = async (version: string) => {
    const { code, lines } = await run([fakeSocket('/run/a.sock', 'admin', ROWS, false, version)]);
    return { code, line: lines[1] };
  };

  it.each(['2.2.9-2+deb11u6', '2.4.22-0ubuntu0.22.04.3', '2.6.12-1+deb12u4', '3.0.11-1+deb13u4', '3.2.4', '3.3-dev2'])(
    '%s: supported',
    async (version) => {
      expect(await line(version)).toEqual({ code: 0, line: `ok   haproxy /run/a.sock: reachable, level admin (HAProxy ${version}, supported, pid 42)` });
    },
  );

  it('older than 2.2: FAIL naming the version', async () => {
    expect(await line('2.0.33-1')).toEqual({
      code: 1,
      line: 'FAIL haproxy /run/a.sock: reachable, level admin (HAProxy 2.0.33-1, pid 42): HAProxy 2.0.33-1 is older than 2.2, the oldest supported (HAProxy 2.2 to 3.x)',
    });
    expect((await line('1.8.19-1+deb10u5')).line).toMatch(/^FAIL .*HAProxy 1\.8\.19-1\+deb10u5 is older than 2\.2/);
  });

  it('newer than 3.x: WARN naming the version, exit still 0', async () => {
    expect(await line('4.0.1')).toEqual({
      code: 0,
      line: 'WARN haproxy /run/a.sock: reachable, level admin (HAProxy 4.0.1, pid 42): HAProxy 4.0.1 is newer than tested (HAProxy 2.2 to 3.x)',
    });
  });
});

describe('check', () => {
  it('all well: one ok line per finding, exit 0', async () => {
    const { code, lines } = await run([fakeSocket('/run/a.sock', 'admin', ROWS), fakeSocket('tcp://127.0.0.1:9999', 'admin', ROWS)]);
    expect(lines).toEqual([
      'ok   config /etc/sh.ini: 3 [program:…]/[group:…] section(s), 2 socket(s)',
      'ok   haproxy /run/a.sock: reachable, level admin (HAProxy 2.6.12-1+deb12u4, supported, pid 42)',
      'ok   haproxy tcp://127.0.0.1:9999: reachable, level admin (HAProxy 2.6.12-1+deb12u4, supported, pid 42)',
      'ok   supervisord : reachable, 3 process(es)',
      'ok   [program:web1] web1:web1: site/web1 found on 2 socket(s), RUNNING',
      'ok   [program:web2] web2:web2: site/web2 found on 2 socket(s), STOPPED',
      'ok   [group:grp] grp:p0: pool/p0 found on 2 socket(s), RUNNING',
      'ok   listener: running under supervisord as haproxy-sync:haproxy-sync, pid 7',
      NO_FILES,
    ]);
    expect(code).toBe(0);
  });

  it('reports a user-level socket, an unreachable one, an unknown server and backend, an unknown program', async () => {
    const { code, lines } = await run(
      [fakeSocket('/run/user.sock', 'user', [row('site', 'web1')]), fakeSocket('/run/gone.sock', 'admin', [], true)],
      [info('web1', 'web1'), info('grp', 'p0')],
    );
    expect(code).toBe(1);
    expect(lines.slice(1)).toEqual([
      'FAIL haproxy /run/user.sock: level user: the listener needs level admin (stats socket … level admin) (HAProxy 2.6.12-1+deb12u4, supported, pid 42)',
      'FAIL haproxy /run/gone.sock: unreachable: connect ECONNREFUSED',
      'ok   supervisord : reachable, 2 process(es)',
      'ok   [program:web1] web1:web1: site/web1 found on 1 socket(s), RUNNING',
      "FAIL [program:web2]: supervisord has no process 'web2' (in any group)",
      'FAIL [group:grp] grp:p0: no backend pool on /run/user.sock',
      'ok   listener: running under supervisord as haproxy-sync:haproxy-sync, pid 7',
      NO_FILES,
    ]);
  });

  it('says when no listener runs for the config: WARN with what to do, exit still 0', async () => {
    const sockets = [fakeSocket('/run/a.sock', 'admin', ROWS), fakeSocket('tcp://127.0.0.1:9999', 'admin', ROWS)];
    const { code, lines, seen } = await run(sockets, INFOS, null, { running: false, detail: 'no process of supervisord runs with --config /etc/sh.ini' });
    expect(seen).toEqual([INFOS]);
    expect(lines.at(-2)).toBe(
      'WARN listener: not running: no process of supervisord runs with --config /etc/sh.ini (add its [eventlistener:…] section, then supervisorctl reread and update)',
    );
    expect(code).toBe(0);
    const remote = await run(sockets, INFOS, null, { running: null, detail: 'cannot tell: supervisord is on another host' });
    expect(remote.lines.at(-2)).toBe('skip listener: cannot tell: supervisord is on another host');
  });

  it('checks [haproxy] server_state_file, one per socket, once the config has it', async () => {
    const base = config();
    const cfg = { ...base, haproxy: { ...base.haproxy, serverStateFiles: ['/var/lib/haproxy/a.state', '/ro/b.state'] } };
    const { code, lines } = await run([fakeSocket('/run/a.sock', 'admin', ROWS), fakeSocket('tcp://127.0.0.1:9999', 'admin', ROWS)], INFOS, null, RUNNING, cfg);
    expect(lines.slice(-2)).toEqual([
      "ok   haproxy /run/a.sock server_state_file: /var/lib/haproxy/a.state: /var/lib/haproxy writable by haproxy-sync (the listener's user)",
      "FAIL haproxy tcp://127.0.0.1:9999 server_state_file: /ro/b.state: directory /ro is not writable by haproxy-sync (the listener's user)",
    ]);
    expect(code).toBe(1);
  });

  it('--probe sends each warm-up request of running processes once', async () => {
    const text = `[haproxy]\nsocket = /run/a.sock\n[program:web1]\nservers = site/web1\nwarmup = /site, http://www.example.org/x\n[program:web2]\nservers = site/web2\nwarmup = /site\n`;
    const seen: string[] = [];
    const probe: Probe = async (req) => {
      seen.push(req.url.href);
      return req.url.hostname === 'www.example.org'
        ? { ok: false, status: 503, error: 'unexpected status 503', ms: 3, connected: true }
        : { ok: true, status: 200, ms: 12.4 };
    };
    const lines: string[] = [];
    const code = await check({
      config: config(text),
      haproxies: [fakeSocket('/run/a.sock', 'admin', ROWS)],
      supervisor: { getAllProcessInfo: async () => [info('web1', 'web1'), info('web2', 'web2', 'STOPPED')] },
      probe,
      out: (l) => lines.push(l),
      locate: async () => RUNNING,
    });
    expect(seen).toEqual(['http://127.0.0.1:8080/site', 'http://www.example.org/x']);
    expect(lines.slice(-3)).toEqual([
      'ok   warm-up web1:web1: http://127.0.0.1:8080/site → 200 in 12 ms',
      'FAIL warm-up web1:web1: http://www.example.org/x → unexpected status 503 after 3 ms',
      'skip warm-up web2:web2: process is STOPPED',
    ]);
    expect(code).toBe(1);
  });

  it('--probe warns of an answer slower than max_time: the warm-up would not pass it', async () => {
    const text = `[haproxy]\nsocket = /run/a.sock\n[warmup]\nmax_time = 500ms\n[program:web1]\nservers = site/web1\nwarmup = /site\n`;
    const lines: string[] = [];
    await check({
      config: config(text),
      haproxies: [fakeSocket('/run/a.sock', 'admin', ROWS)],
      supervisor: { getAllProcessInfo: async () => [info('web1', 'web1')] },
      probe: async () => ({ ok: true, status: 200, ms: 1800 }),
      out: (l) => lines.push(l),
      locate: async () => RUNNING,
    });
    expect(lines.at(-1)).toBe('WARN warm-up web1:web1: http://127.0.0.1:8080/site → 200 in 1800 ms, slower than max_time 500 ms: the warm-up would not pass it');
  });
});

describe('check, with supervisord unreachable', () => {
  it('says so once, with a hint, and checks the rest: sockets, state files (as its own user)', async () => {
    const base = config('[haproxy]\nsocket = /run/a.sock\n[supervisor]\nurl = unix:///run/supervisor.sock\n[listener]\nstate_file = /var/lib/haproxy/l.json\n[program:web1]\nservers = site/web1\n');
    const lines: string[] = [];
    const code = await check({
      config: base,
      haproxies: [fakeSocket('/run/a.sock', 'admin', ROWS)],
      supervisor: {
        getAllProcessInfo: async () => {
          throw new Error('supervisord unix:///run/supervisor.sock: supervisor.getAllProcessInfo: connect ENOENT /run/supervisor.sock');
        },
      },
      probe: null,
      out: (l) => lines.push(l),
      locate: async () => RUNNING,
      fs: fakeFs({ '/var/lib/haproxy': 'dir' }),
    });
    expect(lines.slice(1)).toEqual([
      'ok   haproxy /run/a.sock: reachable, level admin (HAProxy 2.6.12-1+deb12u4, supported, pid 42)',
      'FAIL supervisord unix:///run/supervisor.sock: supervisor.getAllProcessInfo: connect ENOENT /run/supervisor.sock ' +
        '(is supervisord running, and is [supervisor] url its [unix_http_server] file or [inet_http_server] port?)',
      'skip listener: cannot tell without an answer from supervisord',
      NO_FILES,
      expect.stringMatching(/^ok {3}listener state_file: \/var\/lib\/haproxy\/l\.json: not there yet; \/var\/lib\/haproxy writable by \S+ \(who runs check: no listener found to tell its user\)$/),
    ]);
    expect(code).toBe(1);
  });
});
