// check, status and restart against real haproxy and supervisord, with the listener running.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { appProgram, appsListening, listenerProgram, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let configPath: string;
let fePort: number;
const ports: Record<string, number> = {};
const SITE = ['web1', 'web2', 'web3'] as const;
const BAD = ['nw1', 'never', 'nw3'] as const;
const ALL = [...SITE, 'lone', ...BAD] as const;
const BACKEND: Record<string, string> = { web1: 'site', web2: 'site', web3: 'site', lone: 'solo', nw1: 'bad', never: 'bad', nw3: 'bad' };

const status = (server: string): Promise<string> => hap.serverStatus(BACKEND[server] as string, server);

async function shows(server: string, prefix: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await status(server)).startsWith(prefix) || undefined, {
    timeoutMs,
    intervalMs: 50,
    what: `${server} ${prefix}`,
  });
}

async function pidOf(namespec: string): Promise<number> {
  return Number((await sup.ctl('pid', namespec)).stdout.trim());
}

async function writeIni(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const header = (socket: string) => `[haproxy]
socket = ${socket}
timeout = 1s
heartbeat = 1s

[supervisor]
url = ${sup.url}
`;

/** Starts the file's haproxy, supervisord, apps and listener on ports picked now. */
async function start(): Promise<void> {
  dir = await makeTempDir('shc-');
  for (const n of ALL) ports[n] = await freePort();
  fePort = await freePort();
  const servers = (backend: string) =>
    ALL.filter((n) => BACKEND[n] === backend).map((n) => ({ name: n, port: ports[n] as number }));
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [
      { name: 'site', servers: servers('site') },
      { name: 'solo', servers: servers('solo') },
      { name: 'bad', servers: servers('bad') },
    ],
    frontends: [{ name: 'fe', port: fePort, backend: 'site' }],
    sockets: [
      { kind: 'unix', level: 'admin' },
      { kind: 'tcp', level: 'admin' },
      { kind: 'unix', level: 'user' },
    ],
  });
  const warm = { COLD_MS: 300, WARM_AFTER: 2 };
  sup = await startSupervisord({
    dir: join(dir, 'sup'),
    programs: [
      `[group:site]\nprograms = ${SITE.join(',')}\n`,
      `[group:bad]\nprograms = ${BAD.join(',')}\n`,
      ...[...SITE, 'lone', 'nw1', 'nw3'].map((n) => appProgram(dir, n, { PORT: ports[n] as number, ...warm })),
      appProgram(dir, 'never', { PORT: ports['never'] as number, NEVER_WARM: 1 }),
      // The listener's config is written below, once supervisord's url is known; it starts after it.
      listenerProgram(dir, join(dir, 'listener.ini'), { extra: ['autostart = false'] }),
    ].join('\n'),
  });
  configPath = await writeListenerConfig(
    dir,
    `${header(`${hap.sockets[0]}, ${hap.sockets[1]}`)}
[listener]
state_file = ${join(dir, 'listener-state.json')}

[warmup]
interval = 100ms
timeout = 2s
deadline = 20s

[group:site]
servers = site/%(process_name)s
warmup = /site

[program:lone]
servers = solo/lone
warmup = /site

[group:bad]
servers = bad/%(process_name)s
warmup = /site

[program:never]
servers = bad/never
warmup = /site
deadline = 3s
`,
  );
  await appsListening(dir, ALL);
  // A running site that the listener joins: it finds every program RUNNING and ready, and leaves them so.
  await waitFor(
    async () => {
      const lines = (await sup.ctl('status')).stdout.trim().split('\n').filter((l) => !l.startsWith('listener'));
      return lines.length === ALL.length && lines.every((l) => /\sRUNNING\s/.test(l)) ? true : undefined;
    },
    { timeoutMs: 20_000, what: 'every program RUNNING' },
  );
  expect((await sup.ctl('start', 'listener')).code).toBe(0);
  for (const n of ALL) await shows(n, 'no check');
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown, 180_000);

describe('check', () => {
  it('a good config: every line ok, exit 0', async () => {
    const r = await runCli(['check', '--config', configPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // No server_state_file here: said, not failed.
    expect(lines.filter((l) => !l.startsWith('ok '))).toEqual([
      'skip haproxy server_state_file: not set: an HAProxy reload forgets maint and drain until the listener sets them again',
    ]);
    // The version of the haproxy on PATH: 2.6 under npm test, 2.2 and 3.0 under scripts/test-haproxy-versions.sh.
    const pidNow = await hap.workerPid();
    expect(r.stdout).toContain(`ok   haproxy ${hap.sockets[0]}: reachable, level admin (HAProxy ${hap.version}, supported, pid ${pidNow})`);
    expect(r.stdout).toContain(`ok   haproxy ${hap.sockets[1]}: reachable, level admin`);
    expect(r.stdout).toContain('ok   [group:site] site:web2: site/web2 found on 2 socket(s), RUNNING');
    // Which supervisord process is the listener: its command line names this config.
    const pid = await pidOf('listener');
    expect(lines).toContain(`ok   listener: running under supervisord as listener:listener, pid ${pid} (its command line names this config)`);
  });

  it('--probe runs each warm-up once', async () => {
    const r = await runCli(['check', '--config', configPath, '--probe']);
    expect(r.stdout).toMatch(new RegExp(`ok   warm-up site:web1: http://127\\.0\\.0\\.1:${ports['web1']}/site → 200 in \\d+ ms`));
    expect(r.stdout).toMatch(/FAIL warm-up bad:never: .* → unexpected status 503/);
    expect(r.code).toBe(1);
  });

  it('a config naming an unknown server: FAIL naming it, exit 1', async () => {
    const path = await writeIni('unknown-server.ini', `${header(hap.sockets[0] as string)}\n[program:web1]\nservers = site/web9\n`);
    const r = await runCli(['check', '--config', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL [program:web1] site:web1: no server site/web9 on ${hap.sockets[0]}`);
  });

  it('a socket without admin level is reported as such, exit 1', async () => {
    const path = await writeIni('user-socket.ini', `${header(hap.sockets[2] as string)}\n[program:web1]\nservers = site/web1\n`);
    const r = await runCli(['check', '--config', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL haproxy ${hap.sockets[2]}: level user: the listener needs level admin`);
  });

  it('an unknown program: FAIL, exit 1', async () => {
    const path = await writeIni('unknown-program.ini', `${header(hap.sockets[0] as string)}\n[program:nosuch]\nservers = site/web1\n`);
    const r = await runCli(['check', '--config', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL [program:nosuch]: supervisord has no process 'nosuch' (in any group)");
  });

  it('a config error: file, section and key on stderr, exit 2', async () => {
    const path = await writeIni('bad.ini', `${header(hap.sockets[0] as string)}\n[program:web1]\nservers = site/web;1\n`);
    const r = await runCli(['check', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^supervisor-haproxy: ${path}: \\[program:web1\\] servers: `));
  });
});

describe('status', () => {
  it('a table a human reads at a glance', async () => {
    const r = await runCli(['status', '--config', configPath]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROCESS\s+STATE\s+UPTIME\s+WARM-UP\s+SERVER\s+SOCKET\s+HAPROXY\s+SESS\s+AGREES$/);
    // Found RUNNING and ready when the listener started: left as is, no warm-up of its own.
    expect(r.stdout).toMatch(new RegExp(`site:web1\\s+RUNNING\\s+\\S+( \\S+)?\\s+none\\s+site/web1\\s+${hap.sockets[0]}\\s+no check\\s+\\d+\\s+yes`));
    // One row per server per socket: 7 processes × 2 sockets, then the listener.
    expect(lines).toHaveLength(1 + 7 * 2 + 1);
    expect(lines.at(-1)).toBe(`listener: running under supervisord as listener:listener, pid ${await pidOf('listener')} (its command line names this config)`);
  });

  it('the listener stopped: exit 1 and it says so; check warns; running again: exit 0', async () => {
    const pid = await pidOf('listener');
    expect((await sup.ctl('stop', 'listener')).code).toBe(0);
    try {
      const r = await runCli(['status', '--config', configPath]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `\nlistener: NOT RUNNING: no process of supervisord runs with --config ${configPath}; state file ${join(dir, 'listener-state.json')}: written by pid ${pid}, which is not running\n`,
      );
      const j = await runCli(['status', '--config', configPath, '--json']);
      expect(j.code).toBe(1);
      expect(JSON.parse(j.stdout)).toMatchObject({ all_agree: true, listener_process: { running: false, pid: null } });
      const c = await runCli(['check', '--config', configPath]);
      expect(c.stdout).toMatch(/\nWARN listener: not running: no process of supervisord runs with --config .* supervisorctl reread and update\)\n/);
      expect(c.code).toBe(0);
    } finally {
      expect((await sup.ctl('start', 'listener')).code).toBe(0);
    }
    await waitFor(async () => (await runCli(['status', '--config', configPath])).code === 0 || undefined, {
      timeoutMs: 20_000,
      what: 'status exit 0 with the listener running again',
    });
  });

  it('--json for scripts, and disagreement shows', async () => {
    expect(await hap.cmd('set server solo/lone state maint')).toBe('\n');
    const r = await runCli(['status', '--config', configPath, '--json']);
    expect(await hap.cmd('set server solo/lone state ready')).toBe('\n');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.all_agree).toBe(false);
    expect(json.sockets).toEqual([
      { socket: hap.sockets[0], reachable: true, error: null },
      { socket: hap.sockets[1], reachable: true, error: null },
    ]);
    const lone = json.processes.find((p: { name: string }) => p.name === 'lone:lone');
    expect(lone).toMatchObject({ group: 'lone', process: 'lone', state: 'RUNNING' });
    expect(lone.pid).toBeGreaterThan(0);
    expect(lone.uptime_s).toBeGreaterThanOrEqual(0);
    expect(lone.servers[0]).toEqual({
      backend: 'solo',
      server: 'lone',
      socket: hap.sockets[0],
      status: 'MAINT',
      sessions: 0,
      agrees: 'no',
      // The listener's state file says it is not warming it up: so it was set by hand.
      note: 'running but in maint: set by hand, or not yet seen by the listener',
    });
  });
});

describe('restart', () => {
  it('--all under load: zero failed requests, every process restarted', async () => {
    const path = await writeIni('site.ini', `${header(`${hap.sockets[0]}, ${hap.sockets[1]}`)}\n[group:site]\nservers = site/%(process_name)s\nwarmup = /site\n`);
    const before = await Promise.all(SITE.map((n) => pidOf(`site:${n}`)));
    let running = true;
    const results = { ok: 0, failed: 0, errors: [] as string[] };
    const client = async () => {
      while (running) {
        try {
          const res = await fetch(`http://127.0.0.1:${fePort}/site`, { signal: AbortSignal.timeout(10_000) });
          await res.text();
          if (res.status === 200) results.ok++;
          else {
            results.failed++;
            results.errors.push(`HTTP ${res.status}`);
          }
        } catch (err) {
          results.failed++;
          results.errors.push(String(err));
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    const r = await runCli(['restart', '--config', path, '--all', '--drain-timeout', '5s', '--ready-timeout', '30s']);
    running = false;
    await Promise.all(clients);
    expect(r.stdout).toMatch(/done: 3 process\(es\) restarted/);
    expect(r.code).toBe(0);
    const after = await Promise.all(SITE.map((n) => pidOf(`site:${n}`)));
    for (const [i, pid] of after.entries()) expect(pid).not.toBe(before[i]);
    expect(results.errors).toEqual([]);
    expect(results.ok).toBeGreaterThan(50);
    expect(r.stdout).toMatch(/\[\s+\d+\.\ds\] site:web1: site\/web1 set to drain on 2 socket\(s\)/);
  });

  it('stops at a process whose warm-up cannot pass; the rest untouched', async () => {
    const before = { nw1: await pidOf('bad:nw1'), never: await pidOf('bad:never'), nw3: await pidOf('bad:nw3') };
    // --ready-timeout 5m: the command stops when the listener's outcome is final (deadline = 3s), not then.
    const r = await runCli(['restart', '--config', configPath, 'bad:nw1', 'bad:never', 'bad:nw3', '--ready-timeout', '5m']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bad:nw1: UP on every socket/);
    expect(r.stdout).toMatch(
      /restart stopped at bad:never: the listener's warm-up failed \(deadline passed: http:\/\/127\.0\.0\.1:\d+\/site: unexpected status 503\); it stays in maint/,
    );
    // Stopped seconds after the 3 s deadline, far from the 5 min --ready-timeout.
    const stoppedAt = Number(/\[\s*([\d.]+)s\] restart stopped at bad:never/.exec(r.stdout)?.[1]);
    const restartedAt = Number(/\[\s*([\d.]+)s\] bad:never: restarting/.exec(r.stdout)?.[1]);
    expect(stoppedAt - restartedAt).toBeLessThan(60);
    expect(r.stdout).toContain('not restarted (untouched): bad:nw3');
    expect(await pidOf('bad:nw1')).not.toBe(before.nw1);
    expect(await pidOf('bad:never')).not.toBe(before.never);
    expect(await pidOf('bad:nw3')).toBe(before.nw3);
    expect(await status('nw3')).toBe('no check');
    // status tells a failed warm-up from a server put in maint by hand (once the listener has recorded its deadline).
    const st = await waitFor(
      async () => {
        const s = JSON.parse((await runCli(['status', '--config', configPath, '--json'])).stdout);
        return s.processes.find((p: { name: string }) => p.name === 'bad:never').warmup.status !== 'warming' ? s : undefined;
      },
      { timeoutMs: 10_000, what: "status to show bad:never's warm-up over" },
    );
    const never = st.processes.find((p: { name: string }) => p.name === 'bad:never');
    expect(never.warmup).toMatchObject({ status: 'deadline', last_error: expect.stringContaining('unexpected status 503') });
    expect(never.servers[0].note).toMatch(/^warm-up failed: /);
    expect(st.processes.find((p: { name: string }) => p.name === 'bad:nw1').warmup.status).toBe('passed');
  });

  it('never takes down the last server in service of a backend', async () => {
    const pid = await pidOf('lone');
    const r = await runCli(['restart', '--config', configPath, 'lone']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`refusing to take solo/lone out: backend solo on ${hap.sockets[0]} would have no server in service (it has no other server)`);
    expect(await pidOf('lone')).toBe(pid);
    expect(await status('lone')).toBe('no check');
  });
});
