// How the listener answers what sysadmins do to it, with real haproxy and supervisord: SIGTERM while HAProxy
// stalls ends it within the shutdown bound whatever `[haproxy] timeout` says; SIGHUP reads the config again,
// refusing a bad one and going on as it was; a pool of listeners (numprocs > 1) is refused at start-up.

import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../support/frames.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { startPipedListener, type PipedListener } from '../support/listener-pipes.js';
import { boundPort } from '../support/ports.js';
import { listenerProgram, waitForLog, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const ACK = 'RESULT 2\nOKREADY\n';
let dir: string;
let hap: HaproxyInstance;
let runs = 0;
const started: PipedListener[] = [];
const servers: Server[] = [];
/** Connections the stalled server holds open: destroyed before it closes, which waits for them. */
const held: Socket[] = [];
let sup: SupervisordInstance | null = null;

beforeAll(async () => {
  dir = await makeTempDir('shs-');
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [{ name: 'site', servers: ['app0', 'app1'].map((name) => ({ name, port: 1 })) }],
  });
}, 30_000);

afterEach(async () => {
  for (const l of started.splice(0)) await l.kill();
  for (const s of held.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  await sup?.stop();
  sup = null;
});

afterAll(async () => {
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
});

async function piped(configPath: string): Promise<PipedListener> {
  runs += 1;
  const l = await startPipedListener(dir, `run${runs}`, ['--config', configPath], join(dir, `piped${runs}.log`));
  started.push(l);
  await l.waitForStdout('READY\n', 1);
  return l;
}

const stopping = (app: string, serial: number): string =>
  frame('PROCESS_STATE_STOPPING', `processname:${app} groupname:${app} from_state:RUNNING pid:42`, { serial, poolserial: serial });

describe('SIGTERM while HAProxy does not answer', () => {
  it('exits 0 within the shutdown bound although [haproxy] timeout is a minute', async () => {
    // An admin socket that accepts and never answers, as HAProxy's CLI does with all its slots taken.
    const stalled = createServer((s) => held.push(s));
    servers.push(stalled);
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const configPath = join(dir, 'stalled.ini');
    await writeFile(configPath, `[haproxy]\nsocket = tcp://127.0.0.1:${boundPort(stalled)}\ntimeout = 1m\n\n[program:app0]\nservers = site/app0\n`);
    const l = await piped(configPath);
    l.write(stopping('app0', 1));
    await l.waitForStdout(ACK, 1);
    await waitFor(() => held.length > 0, { timeoutMs: 10_000, what: 'the listener to connect to the stalled socket' });
    l.child.kill('SIGTERM');
    // The shutdown bound is 2.5 s plus 1 s for output; the stalled command alone would take the minute.
    const exit = await waitFor(() => l.exit ?? undefined, { timeoutMs: 20_000, what: 'the listener to exit after SIGTERM' });
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await l.stderr()).toMatch(/msg="listener stopped" exit_code=0/);
  });
});

describe('SIGHUP', () => {
  it('refuses a bad config and goes on with the old one; applies a good one', async () => {
    const configPath = join(dir, 'reload.ini');
    const good = (programs: readonly string[]): string =>
      `[haproxy]\nsocket = ${hap.sockets[0]}\ntimeout = 1s\n\n${programs.map((p) => `[program:${p}]\nservers = site/${p}\n`).join('\n')}`;
    await writeFile(configPath, good(['app0']));
    const l = await piped(configPath);
    await hap.cmd('set server site/app0 state ready');
    await hap.cmd('set server site/app1 state ready');

    // A typo: refused, logged, and the listener goes on with what it had.
    await writeFile(configPath, `${good(['app0'])}warmpu = /\n`);
    l.child.kill('SIGHUP');
    await waitFor(async () => /msg="config reload refused; the listener goes on with the config it has"/.test(await l.stderr()), {
      timeoutMs: 10_000,
      what: 'the refused reload to be logged',
    });
    expect(await l.stderr()).toMatch(/error="[^"]*reload\.ini: \[program:app0\] warmpu: /);
    expect(l.exit).toBeNull();
    l.write(stopping('app0', 1));
    await l.waitForStdout(ACK, 1);
    await hap.waitStatus('site', 'app0', 'MAINT', 10_000);

    // A good one that maps app1 too: from now on app1's events move its server.
    await writeFile(configPath, good(['app0', 'app1']));
    l.child.kill('SIGHUP');
    await waitFor(async () => /msg="config reloaded"/.test(await l.stderr()), { timeoutMs: 10_000, what: 'the reload to be logged' });
    l.write(stopping('app1', 2));
    await l.waitForStdout(ACK, 2);
    await hap.waitStatus('site', 'app1', 'MAINT', 10_000);
    expect(l.exit).toBeNull();
    expect(l.stdout()).toBe(`READY\n${ACK.repeat(2)}`);
  });
});

describe('a pool of listeners (numprocs = 2)', () => {
  it('is refused at start-up by each of them, saying to set numprocs = 1; both end FATAL', async () => {
    const sdir = join(dir, 'pool');
    const configPath = await writeListenerConfig(
      await makeTempDir('shs-pool-'),
      `[haproxy]\nsocket = ${hap.sockets[0]}\n\n[program:app0]\nservers = site/app0\n`,
    );
    sup = await startSupervisord({
      dir: sdir,
      programs: listenerProgram(sdir, configPath, {
        name: 'pool',
        extra: ['numprocs = 2', 'process_name = %(program_name)s_%(process_num)s', 'startretries = 0'],
      }),
    });
    await waitFor(
      async () => {
        const { stdout } = await sup!.ctl('status');
        return (stdout.match(/FATAL/g) ?? []).length === 2 || undefined;
      },
      { timeoutMs: 30_000, what: 'both listeners of the pool to end FATAL' },
    );
    const log = await waitForLog(sdir, /msg="a pool of listeners: run exactly one; exiting" pool=pool processes=2 fix="set numprocs = 1 in \[eventlistener:pool\]"/, 'the refusal');
    expect(log).not.toMatch(/msg="listener starting"/);
  });
});
