// Proves the integration harness itself: real haproxy and supervisord start, serve, fail fast and leave nothing behind.

import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../support/binaries.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { slowAppPath } from '../support/paths.js';
import { boundPort, freePort, PortInUseError, withFreshPorts } from '../support/ports.js';
import { appProgram, appsListening } from '../support/programs.js';
import { isAlive } from '../support/process.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const APP = slowAppPath();

let dir: string;
let appPort: number;
let fePort: number;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let programs: string;

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}

async function appPid(): Promise<number> {
  const { stdout } = await sup.ctl('pid', 'app');
  return Number(stdout.trim());
}

/** Starts the file's haproxy, supervisord, apps and listener on ports picked now. */
async function start(): Promise<void> {
  dir = await makeTempDir('shh-');
  appPort = await freePort();
  fePort = await freePort();
  programs = `
[program:app]
command = ${process.execPath} ${APP}
environment = PORT="${appPort}",COLD_MS="200",WARM_AFTER="1"
startsecs = 1
stopwaitsecs = 5
stdout_logfile = ${join(dir, 'app.out')}
stderr_logfile = ${join(dir, 'app.err')}
`;
  sup = await startSupervisord({ dir: join(dir, 'sup'), programs });
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [
      {
        name: 'site',
        options: ['option httpchk GET /health'],
        servers: [{ name: 'app', port: appPort, check: true, options: 'inter 200ms rise 1 fall 1' }],
      },
    ],
    frontends: [{ name: 'fe', port: fePort, backend: 'site' }],
    sockets: [
      { kind: 'unix', level: 'admin' },
      { kind: 'tcp', level: 'admin' },
      { kind: 'unix', level: 'user' },
    ],
  });
  await appsListening(dir, ['app']);
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

describe('haproxy harness', () => {
  it('answers show info on every socket it reports, unix and tcp', async () => {
    expect(hap.sockets).toHaveLength(3);
    expect(hap.sockets[0]).toBe(join(dir, 'hap', 'admin.sock'));
    expect(hap.sockets[1]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(hap.sockets[2]).toBe(join(dir, 'hap', 'user.sock'));
    for (const socket of hap.sockets) {
      const info = await hap.cmd('show info', socket);
      expect(info).toContain('Name: HAProxy');
      expect(info).toContain(`Pid: ${hap.pid}`);
    }
  });

  it('gives admin level where asked and user level where asked', async () => {
    expect(await hap.cmd('set server site/app state maint', hap.sockets[1])).toBe('\n');
    expect(await hap.serverStatus('site', 'app')).toBe('MAINT');
    expect(await hap.cmd('set server site/app state ready', hap.sockets[2])).toBe('Permission denied\n\n');
    expect(await hap.cmd('set server site/app state ready')).toBe('\n');
    await waitFor(async () => (await hap.serverStatus('site', 'app')).startsWith('UP') || undefined, {
      timeoutMs: 5000,
      what: 'site/app UP',
    });
  });

  it('serverStatus names a server that does not exist', async () => {
    await expect(hap.serverStatus('site', 'nope')).rejects.toThrow(/site\/nope/);
  });

  it('restart() loses the runtime state and comes back on the same sockets and ports', async () => {
    const oldPid = hap.pid;
    expect(await hap.cmd('set server site/app state maint')).toBe('\n');
    await hap.restart();
    expect(hap.pid).not.toBe(oldPid);
    expect(isAlive(oldPid)).toBe(false);
    expect(await hap.serverStatus('site', 'app')).not.toBe('MAINT');
    expect(await hap.cmd('show info', hap.sockets[1])).toContain(`Pid: ${hap.pid}`);
    await waitFor(async () => (await get(`http://127.0.0.1:${fePort}/health`)).status === 200 || undefined, {
      timeoutMs: 5000,
      what: 'frontend answering after restart',
    });
  });

  it('fails fast with the log tail when haproxy rejects its config', async () => {
    const bad = startHaproxy({
      dir: join(dir, 'bad-hap'),
      backends: [{ name: 'b', servers: [{ name: 's', port: 1, options: 'no-such-keyword' }] }],
    });
    // "exited during start-up": seen as the process ended, not after the start-up timeout.
    await expect(bad).rejects.toThrow(/haproxy exited during start-up[\s\S]*no-such-keyword/);
  });

  it('a frontend port taken by someone else is a PortInUseError, and withFreshPorts starts again on another', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = boundPort(squatter);
    const tried: number[] = [];
    let started: HaproxyInstance | undefined;
    try {
      const attempt = (port: number, name: string) =>
        startHaproxy({
          dir: join(dir, name),
          backends: [{ name: 'b', servers: [{ name: 's', port: 1 }] }],
          frontends: [{ name: 'fe', port, backend: 'b' }],
        });
      await expect(attempt(taken, 'taken-hap')).rejects.toBeInstanceOf(PortInUseError);
      started = await withFreshPorts(
        async (n) => {
          const port = n === 1 ? taken : await freePort();
          tried.push(port);
          return attempt(port, `retry-hap-${n}`);
        },
        async () => undefined,
      );
      expect(tried).toHaveLength(2);
      expect(tried[0]).toBe(taken);
      expect(await readFile(started.configPath, 'utf8')).toContain(`bind 127.0.0.1:${tried[1]}`);
    } finally {
      await started?.stop();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

describe('supervisord harness', () => {
  it('runs the slow-app program: status shows RUNNING', async () => {
    const status = await waitFor(
      async () => {
        const r = await sup.ctl('status', 'app');
        return r.stdout.includes('RUNNING') ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'app RUNNING' },
    );
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^app\s+RUNNING\s+pid \d+/);
    expect(sup.url).toBe(`unix://${join(dir, 'sup', 'supervisor.sock')}`);
  });

  it('a request through the haproxy frontend reaches the app', async () => {
    const pid = await appPid();
    expect(pid).toBeGreaterThan(0);
    const viaHaproxy = await get(`http://127.0.0.1:${fePort}/pid`);
    expect(viaHaproxy).toEqual({ status: 200, body: `${pid}\n` });
    const site = await get(`http://127.0.0.1:${fePort}/site`);
    expect(site.status).toBe(200);
    expect(site.body).toContain(`pid ${pid}`);
  });

  it('ctl reports non-zero exit codes without throwing', async () => {
    const r = await sup.ctl('status', 'nosuch');
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('nosuch: ERROR (no such process)');
  });

  it('writeConf + reread/update adds a program', async () => {
    // PORT 0: the app binds a port the kernel picks and names it in its log.
    await sup.writeConf(`${programs}
[program:app2]
command = ${process.execPath} ${APP}
environment = PORT="0"
startsecs = 0
stderr_logfile = ${join(dir, 'app2.err')}
`);
    expect((await sup.ctl('reread')).stdout).toContain('app2: available');
    expect((await sup.ctl('update')).stdout).toContain('app2: added process group');
    const port = await waitFor(
      async () => /listening on 127\.0\.0\.1:(\d+) /.exec(await readFile(join(dir, 'app2.err'), 'utf8'))?.[1],
      { timeoutMs: 10_000, what: 'app2 to say where it listens' },
    );
    await waitFor(async () => (await get(`http://127.0.0.1:${port}/health`)).status === 200 || undefined, {
      timeoutMs: 10_000,
      what: 'app2 answering',
    });
  });

  it('appsListening: an app that finds its port taken is a PortInUseError', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const clashDir = join(dir, 'clash');
    const clash = await startSupervisord({ dir: clashDir, programs: appProgram(clashDir, 'late', { PORT: boundPort(squatter) }) });
    try {
      await expect(appsListening(clashDir, ['late'])).rejects.toBeInstanceOf(PortInUseError);
    } finally {
      await clash.stop();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('fails fast with the log tail when supervisord rejects its config', async () => {
    const badDir = join(dir, 'bad-sup');
    await mkdir(badDir);
    // "exited during start-up": seen as the process ended, not after the start-up timeout.
    await expect(startSupervisord({ dir: badDir, programs: '[program:nocommand]\nautostart = true\n' })).rejects.toThrow(
      /supervisord exited during start-up[\s\S]*nocommand/,
    );
  });
});

describe('binaries', () => {
  it('finds the real binaries', () => {
    expect(requireBinary('haproxy')).toMatch(/\/haproxy$/);
    expect(requireBinary('supervisorctl')).toMatch(/\/supervisorctl$/);
  });

  it('a missing binary fails with what to install', () => {
    expect(() => requireBinary('haproxy', [dir])).toThrow('haproxy not found on PATH: apt-get install -y haproxy');
    expect(() => requireBinary('supervisord', [dir])).toThrow('supervisord not found on PATH: apt-get install -y supervisor');
  });
});

// Last: teardown itself must leave no process behind.
describe('teardown', () => {
  it('stop() leaves no haproxy, supervisord or program process', async () => {
    const app2 = Number((await sup.ctl('pid', 'app2')).stdout.trim());
    const pids = { haproxy: hap.pid, supervisord: sup.pid, app: await appPid(), app2 };
    expect(Object.values(pids).every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    await sup.stop();
    await hap.stop();
    const alive = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, isAlive(pid)]));
    expect(alive).toEqual({ haproxy: false, supervisord: false, app: false, app2: false });
    // Idempotent: afterAll calls them again.
    await sup.stop();
    await hap.stop();
  });
});
