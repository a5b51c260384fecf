// How the listener goes on and how it ends, with real haproxy (and supervisord): an event it cannot decode is
// acknowledged and the next one handled; an unhandled rejection is logged and nothing more; SIGTERM in the
// middle of events stops it at once, with exit 0, only protocol tokens on stdout, pending HAProxy changes flushed.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../support/frames.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { startPipedListener, type PipedListener } from '../support/listener-pipes.js';
import { ROOT } from '../support/paths.js';
import { freePort } from '../support/ports.js';
import { isAlive } from '../support/process.js';
import { appProgram, listenerLog, listenerProgram, waitForLog, waitForResync, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const APPS = ['app0', 'app1', 'app2', 'app3'] as const;
const ACK = 'RESULT 2\nOKREADY\n';
/** All a listener may ever write on stdout: READY, then an acknowledgement and READY per event. */
const PROTOCOL_ONLY = /^READY\n(RESULT 2\nOKREADY\n)*$/;

let dir: string;
let hap: HaproxyInstance;
let configPath: string;
let runs = 0;
const started: PipedListener[] = [];

beforeAll(async () => {
  dir = await makeTempDir('shc-');
  const ports: number[] = [];
  for (const _ of APPS) ports.push(await freePort());
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [{ name: 'site', servers: APPS.map((name, i) => ({ name, port: ports[i] as number })) }],
  });
  configPath = join(dir, 'piped.ini');
  const programs = APPS.map((a) => `[program:${a}]\nservers = site/${a}\n`).join('\n');
  await (await import('node:fs/promises')).writeFile(configPath, `[haproxy]\nsocket = ${hap.sockets[0]}\ntimeout = 1s\n\n${programs}`);
}, 30_000);

afterEach(async () => {
  for (const l of started.splice(0)) await l.kill();
});

afterAll(async () => {
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
});

async function piped(nodeArgs: readonly string[] = []): Promise<PipedListener> {
  runs += 1;
  const l = await startPipedListener(dir, `run${runs}`, ['--config', configPath], join(dir, `piped${runs}.log`), nodeArgs);
  started.push(l);
  await l.waitForStdout('READY\n', 1);
  return l;
}

const stateEvent = (state: string, from: string, app: string, serial: number, extra = ' pid:42'): string =>
  frame(`PROCESS_STATE_${state}`, `processname:${app} groupname:${app} from_state:${from}${extra}`, { serial, poolserial: serial });

/** HAProxy's `show stat` status for a server the listener set ready (no health check) or to maint. */
const shown = (state: 'ready' | 'maint'): string => (state === 'ready' ? 'no check' : 'MAINT');

describe('an event whose payload cannot be decoded', () => {
  it('is acknowledged and logged; the listener runs on and acts on the next event', async () => {
    const l = await piped();
    l.write(stateEvent('STOPPING', 'RUNNING', 'app0', 1));
    await l.waitForStdout(ACK, 1);
    await hap.waitStatus('site', 'app0', 'MAINT', 10_000);
    // Well framed, but no processname; then a state supervisord does not have.
    l.write(frame('PROCESS_STATE_RUNNING', 'groupname:app0 from_state:STARTING pid:42', { serial: 2, poolserial: 2 }));
    await l.waitForStdout(ACK, 2);
    l.write(stateEvent('NAPPING', 'RUNNING', 'app0', 3));
    await l.waitForStdout(ACK, 3);
    l.write(stateEvent('RUNNING', 'STARTING', 'app0', 4));
    await l.waitForStdout(ACK, 4);
    await hap.waitStatus('site', 'app0', shown('ready'), 10_000);
    expect(l.stdout()).toBe(`READY\n${ACK.repeat(4)}`);
    expect(l.exit).toBeNull();
    expect(isAlive(l.pid)).toBe(true);
    const log = await l.stderr();
    expect(log).toMatch(
      /level=error msg="event could not be decoded; acknowledged and skipped" event=PROCESS_STATE_RUNNING serial=2 reason="PROCESS_STATE_RUNNING payload lacks processname[^\n]*\n/,
    );
    expect(log).toMatch(/level=error msg="event could not be decoded; acknowledged and skipped" event=PROCESS_STATE_NAPPING serial=3 reason="[^"\n]*unknown process state/);
    expect(log).not.toMatch(/malformed|listener stopping/);
  });
});

describe('a promise that rejects with nobody to catch it', () => {
  it('is logged as one error line; the listener goes on acknowledging and acting on events', async () => {
    const l = await piped(['--import', join(ROOT, 'test', 'support', 'inject', 'rejects-unhandled.mjs')]);
    await waitFor(async () => (await l.stderr()).includes('msg="unhandled rejection; listener goes on"') || undefined, {
      timeoutMs: 10_000,
      what: 'the unhandled rejection to be logged',
    });
    l.write(stateEvent('STOPPING', 'RUNNING', 'app1', 1));
    await l.waitForStdout(ACK, 1);
    await hap.waitStatus('site', 'app1', 'MAINT', 10_000);
    l.write(stateEvent('STOPPED', 'STOPPING', 'app1', 2));
    await l.waitForStdout(ACK, 2);
    expect(l.stdout()).toBe(`READY\n${ACK.repeat(2)}`);
    expect(l.exit).toBeNull();
    const lines = (await l.stderr()).split('\n').filter((line) => line.includes('unhandled rejection'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ts=\S+ level=error msg="unhandled rejection; listener goes on" reason=internal error="Error: injected unhandled rejection\\n/);
  });
});

describe('SIGTERM in the middle of a stream of events', () => {
  it('stops reading at once, flushes what HAProxy still lacks, exits 0 with only protocol tokens on stdout', async () => {
    const l = await piped();
    const NEXT = { RUNNING: 'STOPPING', STOPPING: 'STOPPED', STOPPED: 'STARTING', STARTING: 'RUNNING' } as const;
    type State = keyof typeof NEXT;
    const sent: Array<{ app: string; state: State }> = [];
    const current: Record<string, State> = Object.fromEntries(APPS.map((a) => [a, 'RUNNING' as State]));
    const send = (): void => {
      const app = APPS[sent.length % APPS.length] as string;
      const from = current[app] as State;
      const to = NEXT[from];
      current[app] = to;
      sent.push({ app, state: to });
      l.write(stateEvent(to, from, app, sent.length, to === 'STARTING' ? ' tries:0' : ' pid:42'));
    };
    const SIGTERM_AFTER = 25;
    // As supervisord does: the next event once the last is acknowledged, and one in flight when SIGTERM comes.
    for (let acked = 0; l.exit === null; acked++) {
      send();
      if (acked === SIGTERM_AFTER) l.child.kill('SIGTERM');
      if (acked >= SIGTERM_AFTER) break;
      await l.waitForStdout(ACK, acked + 1);
    }
    const exit = await l.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const out = l.stdout();
    expect(out).toMatch(PROTOCOL_ONLY);
    const acks = out.split(ACK).length - 1;
    expect(acks).toBeGreaterThanOrEqual(SIGTERM_AFTER);
    expect(acks).toBeLessThanOrEqual(SIGTERM_AFTER + 1);

    const log = await l.stderr();
    const stopping = log.indexOf('msg="listener stopping" reason=SIGTERM');
    expect(stopping).toBeGreaterThan(0);
    expect(log.slice(stopping)).not.toContain('msg="event received"');
    expect(log).toMatch(/msg="listener stopped" exit_code=0\n$/);
    // Every acknowledged event reached HAProxy before the exit: the last state of each app is shown.
    for (const app of APPS) {
      const last = sent.slice(0, acks).filter((e) => e.app === app).at(-1);
      const want = last === undefined || last.state === 'RUNNING' ? 'ready' : 'maint';
      expect(`${app} ${await hap.serverStatus('site', app)}`).toBe(`${app} ${shown(want)}`);
    }
  });
});

describe('under a real supervisord: `supervisorctl stop listener` during a restart of every program', () => {
  let sdir: string;
  let sup: SupervisordInstance | undefined;

  afterAll(async () => {
    await sup?.stop();
  });

  it('exits 0 on SIGTERM, before supervisord would SIGKILL it, with only protocol tokens on its stdout', async () => {
    sdir = join(dir, 'sup-run');
    await (await import('node:fs/promises')).mkdir(sdir, { recursive: true });
    const ports: number[] = [];
    for (const _ of APPS) ports.push(await freePort());
    const listenerConfig = await writeListenerConfig(
      sdir,
      `[haproxy]\nsocket = ${hap.sockets[0]}\ntimeout = 1s\n\n[group:grp]\nservers = site/%(process_name)s\n`,
    );
    sup = await startSupervisord({
      dir: join(sdir, 'sup'),
      programs: [
        `[group:grp]\nprograms = ${APPS.join(',')}\n`,
        ...APPS.map((a, i) => appProgram(sdir, a, { PORT: ports[i] as number, COLD_MS: 0, WARM_AFTER: 1 }, ['startsecs = 0'])),
        listenerProgram(sdir, listenerConfig),
      ].join('\n'),
    });
    await waitForResync(sdir);
    const before = (await listenerLog(sdir)).length;
    const restarting = sup.ctl('restart', 'grp:*');
    // The first STOPPING the listener sees is the restart's (supervisord started the programs before it).
    await waitForLog(sdir, /event=PROCESS_STATE_STOPPING/, 'a STOPPING of the restart', before, 15_000);
    const stop = await sup.ctl('stop', 'listener');
    expect(stop.stdout).toContain('listener: stopped');
    await restarting;

    // supervisord may still be copying the last lines from the pipe when it reports the process stopped.
    const log = await waitForLog(sdir, /msg="listener stopped" /, 'its last line', before);
    expect(log).toMatch(/msg="listener stopping" reason=SIGTERM[\s\S]*msg="listener stopped" exit_code=0\n$/);
    const supLog = await readFile(sup.logPath, 'utf8');
    expect(supLog).toMatch(/stopped: listener \(exit status 0\)/);
    expect(supLog).not.toMatch(/killing 'listener' \(\d+\) with SIGKILL/);
    const stdout = await readFile(join(sdir, 'listener-stdout.log'), 'utf8');
    expect(stdout).toContain('RESULT 2\nOK');
    expect(stdout.replaceAll('READY\n', '').replaceAll('RESULT 2\nOK', '')).toBe('');
  });
});
