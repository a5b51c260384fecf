// Load balancers that pull: one HAProxy knows the listener only through agent-check, and the listener has no
// [haproxy] section; another HAProxy, pushed to through its socket once one is given, must agree with it.
// Visitor requests are counted at the app (HAProxy adds X-Forwarded-For; probes and checks have none).

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { countingProgram, readVisits, setCold, setColdNext } from '../support/counting.js';
import { fieldFromShowStat, startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { appsListening, listenerLog, listenerProgram, waitForLog, waitForResync, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { startVisitors, type Visitors } from '../support/visitors.js';
import { waitFor } from '../support/wait.js';

const BACKEND = 'site';
const NAMES = ['a', 'b', 'c'] as const;
type Name = (typeof NAMES)[number];

let dir: string;
let appDir: string;
let configPath: string;
let agentPort: number;
let pull: HaproxyInstance;
let push: HaproxyInstance;
let sup: SupervisordInstance;
const ports = {} as Record<Name, number>;
const frontends = { pull: 0, push: 0 };

/** The listener's INI: the agent, each program warmed through its own address; a socket only when given. */
function listenerIni(socket: string | null): string {
  return `${socket === null ? '' : `[haproxy]\nsocket = ${socket}\ntimeout = 1s\nheartbeat = 500ms\n\n`}[supervisor]
url = unix://${join(dir, 'sup', 'supervisor.sock')}

[listener]
state_file = ${join(dir, 'state.json')}

[agent]
listen = 127.0.0.1:${agentPort}, [::1]:${agentPort}

[warmup]
interval = 100ms
timeout = 1s
deadline = 60s

${NAMES.map((n) => `[program:${n}]\nservers = ${BACKEND}/${n}\nwarmup = /site\naddress = 127.0.0.1:${ports[n]}\n${n === 'c' ? 'on_stopping = drain\n' : ''}`).join('\n')}`;
}

async function start(): Promise<void> {
  dir = await makeTempDir('shag-');
  appDir = join(dir, 'apps');
  for (const n of NAMES) ports[n] = await freePort();
  agentPort = await freePort();
  frontends.pull = await freePort();
  frontends.push = await freePort();
  const backend = (agent: boolean) => ({
    name: BACKEND,
    // `/` passes from the first moment; the site path is what is cold.
    options: ['option httpchk GET /'],
    servers: NAMES.map((n) => ({
      name: n,
      port: ports[n],
      check: true,
      options:
        'inter 200ms rise 1 fall 1' +
        (agent ? ` agent-check agent-addr 127.0.0.1 agent-port ${agentPort} agent-send "${BACKEND}/${n}\\n" agent-inter 200ms` : ''),
    })),
  });
  // A server the listener does not map, its agent asked anyway: the answer must change nothing.
  const other = {
    name: 'other',
    options: ['option httpchk GET /'],
    servers: [{ name: 'spare', port: ports.a, check: true, options: `inter 200ms rise 1 fall 1 agent-check agent-addr 127.0.0.1 agent-port ${agentPort} agent-send "other/spare\\n" agent-inter 200ms` }],
  };
  pull = await startHaproxy({
    dir: join(dir, 'pull'),
    frontends: [{ name: 'www', port: frontends.pull, backend: BACKEND }],
    backends: [backend(true), other],
    defaults: ['option forwardfor'],
  });
  push = await startHaproxy({
    dir: join(dir, 'push'),
    frontends: [{ name: 'www', port: frontends.push, backend: BACKEND }],
    backends: [backend(false)],
    defaults: ['option forwardfor'],
  });
  configPath = await writeListenerConfig(dir, listenerIni(null));
  await mkdir(appDir, { recursive: true });
  sup = await startSupervisord({
    dir: join(dir, 'sup'),
    programs: [...NAMES.map((n) => countingProgram(dir, appDir, n, ports[n], { LISTEN_DELAY_MS: 200 })), listenerProgram(dir, configPath)].join('\n'),
  });
  await appsListening(dir, NAMES);
  await waitForResync(dir);
  // Warm from STARTING, the servers are UP before supervisord counts anything RUNNING (startsecs), and
  // status and check find a listener only once it is RUNNING.
  await waitFor(async () => ((await sup.ctl('status')).stdout.split('\n').filter((l) => l.trim() !== '').every((l) => /\sRUNNING\s/.test(l)) ? true : undefined), {
    timeoutMs: 20_000,
    what: 'every program and the listener RUNNING',
  });
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await pull?.stop();
  await push?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

const shows = (hap: HaproxyInstance, n: Name, prefix: string): Promise<void> => hap.waitStatus(BACKEND, n, prefix, 15_000);
const visitors = (): Visitors => startVisitors(`http://127.0.0.1:${frontends.pull}/site`, { clients: 3, timeoutMs: 10_000 });
const coldVisits = async (): Promise<string[]> =>
  (await Promise.all(NAMES.map(async (n) => (await readVisits(appDir, n)).filter((v) => v.cold).map((v) => `${n} ${v.pid}`)))).flat();

/**
 * Runs `disrupt` on n, whose next process starts cold; waits until that process has failed a warm-up probe
 * (it runs, and its health check passes) while HAProxy holds it in MAINT; then warms it and waits until
 * HAProxy serves it again.
 */
async function throughColdStart(hap: HaproxyInstance, n: Name, disrupt: () => Promise<void>): Promise<void> {
  const from = (await listenerLog(dir)).length;
  await setColdNext(appDir, n, true);
  await disrupt();
  await waitForLog(dir, new RegExp(`msg="warm-up probe" process=${n}:${n} .*status=503`), `a cold probe of ${n}`, from, 15_000);
  await shows(hap, n, 'MAINT');
  await setColdNext(appDir, n, false);
  await waitForLog(dir, new RegExp(`msg="warm-up passed" process=${n}:${n} `), `${n} warm`, from, 15_000);
  await shows(hap, n, 'UP');
}

describe('agent-check only: the listener has no [haproxy] section', () => {
  it('HAProxy follows the agent: every server UP, an unmapped one untouched, and check and status ask the agent', async () => {
    for (const n of NAMES) await shows(pull, n, 'UP');
    expect(await listenerLog(dir)).toMatch(/msg="agent listening" listen="127\.0\.0\.1:\d+,\[::1\]:\d+"/);
    // Asked for a server it does not map, the agent answers a line that changes nothing: spare stays UP.
    await waitForLog(dir, /msg="agent request got no decision" why=unknown request=other\/spare /, 'the unknown name', 0, 15_000);
    const agentStatus = async (): Promise<string> => fieldFromShowStat(await pull.cmd('show stat other 4 -1'), 'spare', 'agent_status') ?? '';
    // CHECKED: HAProxy read the agent's answer and found nothing to change (its HCHK_STATUS_CHECKED).
    await waitFor(async () => (await agentStatus()) === 'CHECKED', { timeoutMs: 5000, what: 'spare agent_status CHECKED' });
    expect(await pull.serverStatus('other', 'spare')).toBe('UP');
    const status = await runCli(['status', '--config', configPath]);
    expect(status.stdout).toMatch(new RegExp(`site/a +agent 127\\.0\\.0\\.1:${agentPort} +ready +- +yes`));
    expect(status.code, status.stdout).toBe(0);
    const check = await runCli(['check', '--config', configPath]);
    expect(check.stdout).toContain(`ok   agent 127.0.0.1:${agentPort}: answers site/a → ready`);
    expect(check.stdout).toContain(`ok   agent [::1]:${agentPort}: answers site/a → ready`);
    expect(check.code).toBe(0);
    // --probe sends relative paths to `address`, as the listener's warm-up does without a socket.
    const probe = await runCli(['check', '--config', configPath, '--probe']);
    expect(probe.stdout).toContain(`ok   warm-up a:a: http://127.0.0.1:${ports.a}/site → 200 in `);
    expect(probe.code).toBe(0);
  });

  it('a rolling supervisorctl restart under load: 0 failed requests, none served cold', async () => {
    const load = visitors();
    for (const n of NAMES) {
      await throughColdStart(pull, n, async () => {
        expect((await sup.ctl('restart', n)).code).toBe(0);
      });
    }
    const before = load.done;
    await waitFor(() => load.done >= before + 30, { timeoutMs: 15_000, what: '30 more visitor requests' });
    const result = await load.stop();
    expect(result.failures).toEqual({});
    expect(result.failed).toBe(0);
    expect(result.requests).toBeGreaterThan(0);
    expect(await coldVisits()).toEqual([]);
  });

  it('a kill -9 of an instance comes back only once warm', async () => {
    const load = visitors();
    await shows(pull, 'a', 'UP');
    const old = Number((await sup.ctl('pid', 'a')).stdout.trim());
    expect(old).toBeGreaterThan(0);
    const visitsBefore = (await readVisits(appDir, 'a')).length;
    await throughColdStart(pull, 'a', async () => {
      process.kill(old, 'SIGKILL');
    });
    const pid = Number((await sup.ctl('pid', 'a')).stdout.trim());
    expect(pid).not.toBe(old);
    await waitFor(async () => (await readVisits(appDir, 'a')).some((v) => v.pid === pid), { timeoutMs: 15_000, what: 'visitors on the new a' });
    await load.stop();
    const after = (await readVisits(appDir, 'a')).slice(visitsBefore);
    expect(after.filter((v) => v.pid === pid).length).toBeGreaterThan(0);
    expect(after.filter((v) => v.cold)).toEqual([]);
  });
});

describe('agent-check only: a listener killed and restarted', () => {
  it('adopts the instances its predecessor warmed: no warm-up, so the agent never answers maint for them', async () => {
    const pids = new Map<Name, number>();
    for (const n of NAMES) pids.set(n, Number((await sup.ctl('pid', n)).stdout.trim()));
    // The state file records each instance warmed, with the pid running now.
    await waitFor(
      async () => {
        const saved = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { processes: Record<string, { pid: number; warmup: string }> };
        return NAMES.every((n) => saved.processes[`${n}:${n}`]?.pid === pids.get(n) && saved.processes[`${n}:${n}`]?.warmup === 'passed');
      },
      { timeoutMs: 10_000, what: 'the state file to record every instance warmed' },
    );
    const old = Number((await sup.ctl('pid', 'listener')).stdout.trim());
    expect(old).toBeGreaterThan(0);
    const from = (await listenerLog(dir)).length;
    process.kill(old, 'SIGKILL');
    for (const n of NAMES) {
      await waitForLog(dir, new RegExp(`msg="resync: running and warmed by the previous listener; left ready" process=${n}:${n}`), `${n} adopted`, from, 15_000);
    }
    const log = (await listenerLog(dir)).slice(from);
    expect(log).not.toMatch(/msg="warm-up started"/);
    for (const n of NAMES) await shows(pull, n, 'UP');
  });
});

describe('two HAProxy instances, one pushed to through its socket, one pulling from the agent', () => {
  /** Both HAProxy instances show `prefix` for n: the step is over when they agree. */
  const agree = async (n: Name, prefix: string): Promise<void> => {
    await Promise.all([shows(pull, n, prefix), shows(push, n, prefix)]);
  };

  it('agree after every step', async () => {
    await writeFile(configPath, listenerIni(push.sockets[0] as string));
    const from = (await listenerLog(dir)).length;
    expect((await sup.ctl('restart', 'listener')).code).toBe(0);
    await waitForLog(dir, /msg="?resync"? /, 'a resync of the new listener', from, 15_000);
    for (const n of NAMES) await agree(n, 'UP');

    expect((await sup.ctl('stop', 'a')).code).toBe(0);
    await agree('a', 'MAINT');

    await setCold(appDir, 'a', true);
    const started = (await listenerLog(dir)).length;
    expect((await sup.ctl('start', 'a')).code).toBe(0);
    await waitForLog(dir, /msg="warm-up probe" process=a:a .*status=503/, 'a cold probe of a', started, 15_000);
    await agree('a', 'MAINT');
    await setCold(appDir, 'a', false);
    await agree('a', 'UP');

    // on_stopping = drain: DRAIN while stopping, MAINT once stopped, on both.
    expect((await sup.ctl('stop', 'c')).code).toBe(0);
    await agree('c', 'MAINT');
    expect((await sup.ctl('start', 'c')).code).toBe(0);
    await agree('c', 'UP');

    const pid = Number((await sup.ctl('pid', 'b')).stdout.trim());
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await agree('b', 'MAINT');
    await agree('b', 'UP');

    for (const n of NAMES) await agree(n, 'UP');
    expect(await coldVisits()).toEqual([]);
  });

  it('junk, over-long lines and more idle connections than it takes leave the listener serving', async () => {
    const listenerPid = (await sup.ctl('pid', 'listener')).stdout.trim();
    const open = (send: string | Buffer | null): Promise<Socket> =>
      new Promise((resolve) => {
        const c = connect({ host: '127.0.0.1', port: agentPort }, () => {
          if (send !== null) c.write(send);
          resolve(c);
        });
        c.on('error', () => undefined);
      });
    const closed = (c: Socket): Promise<void> => new Promise((resolve) => (c.closed ? resolve() : c.once('close', () => resolve())));
    const junk = await Promise.all([
      ...Array.from({ length: 300 }, () => open(null)),
      open(Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256).filter((b) => b !== 10))),
      open('A'.repeat(1000)),
      open(Buffer.from([0, 255, 10])),
    ]);
    // While they hold every slot, events are acknowledged and decided: the pushed HAProxy follows.
    expect((await sup.ctl('stop', 'b')).code).toBe(0);
    await shows(push, 'b', 'MAINT');
    // The listener cuts every one of them (none sends a line it can answer, or reads), so the pull follows too.
    await Promise.all(junk.map(closed));
    await shows(pull, 'b', 'MAINT');
    expect((await sup.ctl('pid', 'listener')).stdout.trim()).toBe(listenerPid);
    expect((await sup.ctl('start', 'b')).code).toBe(0);
    await agree('b', 'UP');
  });
});
