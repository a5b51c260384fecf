// The shipped examples as a sysadmin copies them: the INI through the real config loader, haproxy.cfg.example
// through `haproxy -c`, and supervisord.conf.example as a conf.d drop-in of a real supervisord whose
// listener then runs with the example INI against a real HAProxy (only paths and addresses rewritten).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { requireBinary } from '../support/binaries.js';
import { runCli } from '../support/cli.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { listenerCommand, ROOT, slowAppPath } from '../support/paths.js';
import { freePort } from '../support/ports.js';
import { runCaptured } from '../support/process.js';
import { waitForListenerSettled } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const example = (name: string): Promise<string> => readFile(join(ROOT, name), 'utf8');

/** Replaces every `from` in text; the example must contain it, or the test no longer tests the example. */
function rewrite(text: string, pairs: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of pairs) {
    expect(out, `the example should contain ${from}`).toContain(from);
    out = out.split(from).join(to);
  }
  return out;
}

let dir: string;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let iniPath: string;
const ports: Record<string, number> = {};

beforeAll(async () => {
  dir = await makeTempDir('shx-');
  for (const n of ['instance1', 'instance2']) ports[n] = await freePort();
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [{ name: 'plone', servers: ['instance1', 'instance2'].map((n) => ({ name: n, port: ports[n] as number })) }],
  });
  const supDir = join(dir, 'sup');
  iniPath = join(dir, 'supervisor-haproxy.ini');
  await writeFile(
    iniPath,
    rewrite(await example('supervisor-haproxy.ini.example'), [
      ['/run/haproxy/admin.sock', hap.sockets[0] as string],
      ['unix:///var/run/supervisor.sock', `unix://${join(supDir, 'supervisor.sock')}`],
      ['/var/lib/supervisor-haproxy/', `${dir}/`],
    ]),
  );
  const confD = join(dir, 'conf.d');
  await mkdir(confD);
  await writeFile(
    join(confD, 'haproxy-sync.conf'),
    rewrite(await example('supervisord.conf.example'), [
      ['/usr/bin/supervisor-haproxy', listenerCommand().join(' ')],
      ['/etc/supervisor-haproxy.ini', iniPath],
      ['/var/log/supervisor/', `${dir}/`],
    ]),
  );
  // Debian's supervisord.conf ends with `[include] files = /etc/supervisor/conf.d/*.conf`; the instances are
  // Plone stand-ins answering on /Plone.
  const app = (name: string) => `[program:${name}]
command = ${process.execPath} ${slowAppPath()}
environment = PORT="${ports[name]}",SITE_PATH="/Plone",COLD_MS="200",WARM_AFTER="2"
startsecs = 1
stdout_logfile = ${join(dir, `${name}.out`)}
stderr_logfile = ${join(dir, `${name}.err`)}
`;
  sup = await startSupervisord({
    dir: supDir,
    programs: [app('instance1'), app('instance2'), `[include]\nfiles = ${confD}/*.conf\n`].join('\n'),
  });
}, 60_000);

afterAll(async () => {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
});

describe('supervisor-haproxy.ini.example', () => {
  it('loads with the real config loader, [supervisor] url set for status and restart', () => {
    const config = loadConfig(join(ROOT, 'supervisor-haproxy.ini.example'), {});
    expect(config.supervisor.url).toBe('unix:///var/run/supervisor.sock');
    expect(config.haproxy.sockets.map((s) => s.label)).toEqual(['/run/haproxy/admin.sock']);
    expect(config.rules.map((r) => r.section)).toEqual(['program:instance1', 'program:instance2']);
    expect(config.listener.stateFile).toBe('/var/lib/supervisor-haproxy/state.json');
    // The same path as haproxy.cfg.example's server-state-file.
    expect(config.haproxy.serverStateFiles).toEqual(['/var/lib/supervisor-haproxy/server-state']);
  });
});

describe('haproxy.cfg.example', () => {
  it('is valid for haproxy -c', async () => {
    const r = await runCaptured(requireBinary('haproxy'), ['-c', '-f', join(ROOT, 'haproxy.cfg.example')], { timeoutMs: 10_000 });
    expect(r.stdout + r.stderr).toContain('Configuration file is valid');
    expect(r.code).toBe(0);
  });

  it('loads the server state file the INI example names, in every backend', async () => {
    const text = await example('haproxy.cfg.example');
    expect(text).toMatch(/^\s+server-state-file \/var\/lib\/supervisor-haproxy\/server-state$/m);
    expect(text).toMatch(/^\s+load-server-state-from-file global$/m);
  });

  it('has server lines pulling the listener\'s agent, with the agent-send string the INI example maps', async () => {
    const text = await example('haproxy.cfg.example');
    expect(text).toMatch(
      /^\s+server instance1 \S+ check .*agent-check agent-addr 10\.0\.0\.5 agent-port 9707 agent-send "plone\/instance1\\n" agent-inter 1s$/m,
    );
    expect(await example('supervisor-haproxy.ini.example')).toMatch(/^;listen = 10\.0\.0\.5:9707$/m);
  });

  it('has the admin-level, group-writable socket the other examples name', async () => {
    expect(await example('haproxy.cfg.example')).toMatch(/^\s+stats socket \/run\/haproxy\/admin\.sock mode 660 level admin group haproxy$/m);
  });
});

describe('supervisord.conf.example as a conf.d drop-in', () => {
  const logPath = (): string => join(dir, 'haproxy-sync.log');
  const warmed = async (process: string): Promise<number> =>
    ((await readFile(logPath(), 'utf8').catch(() => '')).match(new RegExp(`msg="warm-up passed" process=${process}:`, 'g')) ?? []).length;

  it('supervisord runs its [eventlistener:haproxy-sync], logging to the file the example names', async () => {
    await waitFor(async () => /^haproxy-sync\s+RUNNING/m.test((await sup.ctl('status', 'haproxy-sync')).stdout) || undefined, {
      timeoutMs: 20_000,
      what: 'haproxy-sync RUNNING',
    });
    // Found STARTING, the instances are warmed; found RUNNING and UP, they are left as they are: either way
    // both end in service once the listener has resynced and gone quiet.
    const bothUp = async () =>
      (await hap.serverStatus('plone', 'instance1')) === 'no check' && (await hap.serverStatus('plone', 'instance2')) === 'no check';
    await waitForListenerSettled(logPath(), bothUp, { quietMs: 1000, timeoutMs: 30_000 });
    // stdout_logfile = NONE: the protocol is not logged; the listener's own lines are.
    expect(await readFile(logPath(), 'utf8')).toMatch(/^ts=\S+ level=info msg="listener starting"/);
  });

  it('stop takes the server out at once, start brings it back after its warm-up', async () => {
    const before = await warmed('instance1');
    expect((await sup.ctl('stop', 'instance1')).code).toBe(0);
    await hap.waitStatus('plone', 'instance1', 'MAINT', 5000);
    expect((await sup.ctl('start', 'instance1')).code).toBe(0);
    await waitFor(async () => (await warmed('instance1')) > before || undefined, { timeoutMs: 30_000, what: 'instance1 warmed again' });
    await hap.waitStatus('plone', 'instance1', 'no check', 10_000);
  });

  it('check and status see the listener as haproxy-sync', async () => {
    const check = await runCli(['check', '--config', iniPath]);
    expect(check.stdout).toContain('ok   listener: running under supervisord as haproxy-sync:haproxy-sync, pid ');
    expect(check.code).toBe(0);
    const status = await runCli(['status', '--config', iniPath]);
    expect(status.stdout).toMatch(/\nlistener: running under supervisord as haproxy-sync:haproxy-sync/);
    expect(status.code).toBe(0);
  });
});
