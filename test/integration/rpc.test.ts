// SupervisorRpc against the real supervisord 4.2.5: process info, stop/start, faults, HTTP Basic auth.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XmlRpcFault, XmlRpcTransportError } from '../../src/errors.js';
import { SupervisorRpc } from '../../src/supervisor/rpc.js';
import { slowAppPath } from '../support/paths.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const APP = slowAppPath();

let dir: string;
let sup: SupervisordInstance;
let secured: SupervisordInstance;

// PORT 0: nothing here talks to the apps, so each binds a port the kernel picks.
const program = (name: string, extra = ''): string => `
[program:${name}]
command = ${process.execPath} ${APP}
environment = PORT="0"
startsecs = 1
stopwaitsecs = 5
${extra}`;

const rpcFor = (s: SupervisordInstance, username: string | null = null, password: string | null = null): SupervisorRpc =>
  new SupervisorRpc({ url: s.url, username, password, timeoutMs: 10_000 });

async function fault(p: Promise<unknown>): Promise<XmlRpcFault> {
  try {
    await p;
  } catch (e) {
    if (e instanceof XmlRpcFault) return e;
    throw e;
  }
  throw new Error('expected an XML-RPC fault');
}

beforeAll(async () => {
  dir = await makeTempDir('shr-');
  const programs = [
    await program('sleeper'),
    await program('café'),
    '\n[group:web]\nprograms = web1\n',
    await program('web1'),
  ].join('\n');
  sup = await startSupervisord({ dir: join(dir, 'open'), programs });
  secured = await startSupervisord({
    dir: join(dir, 'auth'),
    programs: await program('sleeper'),
    auth: { username: 'alice', password: 'secret' },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([sup?.stop(), secured?.stop()]);
  if (dir !== undefined) await removeDir(dir);
});

describe('SupervisorRpc with a real supervisord', () => {
  it('getAllProcessInfo lists every process with group, state and pid', async () => {
    const rpc = rpcFor(sup);
    // startsecs = 1: supervisord answers before its programs are RUNNING.
    const all = await waitFor(
      async () => {
        const infos = await rpc.getAllProcessInfo();
        return infos.every((p) => p.state === 'RUNNING') ? infos : undefined;
      },
      { timeoutMs: 10_000, what: 'every program RUNNING' },
    );
    expect(all.map((p) => `${p.group}:${p.name}`).sort()).toEqual(['café:café', 'sleeper:sleeper', 'web:web1']);
    for (const p of all) {
      expect(p.state).toBe('RUNNING');
      expect(p.statename).toBe('RUNNING');
      expect(p.pid).toBeGreaterThan(0);
      expect(p.description).toBe(`pid ${p.pid}, uptime ${p.description.split('uptime ')[1]}`);
    }
    const ctlPid = Number((await sup.ctl('pid', 'sleeper')).stdout.trim());
    expect(all.find((p) => p.name === 'sleeper')?.pid).toBe(ctlPid);
  });

  it('stopProcess / startProcess, and the faults for doing either twice', async () => {
    const rpc = rpcFor(sup);
    const before = await rpc.getProcessInfo('sleeper');
    expect(await rpc.stopProcess('sleeper')).toBe(true);
    const stopped = await rpc.getProcessInfo('sleeper:sleeper');
    expect(stopped).toMatchObject({ state: 'STOPPED', statename: 'STOPPED', pid: 0 });
    expect(await fault(rpc.stopProcess('sleeper'))).toMatchObject({ faultCode: 70, faultString: 'NOT_RUNNING: sleeper' });

    expect(await rpc.startProcess('sleeper')).toBe(true);
    // With wait, supervisord answers once RUNNING (after startsecs=1), not while STARTING.
    const started = await rpc.getProcessInfo('sleeper');
    expect(started.state).toBe('RUNNING');
    expect(started.pid).not.toBe(before.pid);
    expect(await fault(rpc.startProcess('sleeper'))).toMatchObject({ faultCode: 60, faultString: 'ALREADY_STARTED: sleeper' });
  });

  it('wait = false answers at once', async () => {
    const rpc = rpcFor(sup);
    const stateOf = async (): Promise<string> => (await rpc.getProcessInfo('web:web1')).state;
    expect(await rpc.stopProcess('web:web1', false)).toBe(true);
    expect(['STOPPING', 'STOPPED']).toContain(await stateOf());
    await waitFor(async () => (await stateOf()) === 'STOPPED' || undefined, { timeoutMs: 5000, what: 'web1 STOPPED' });
    expect(await rpc.startProcess('web:web1', false)).toBe(true);
    expect(await stateOf()).toBe('STARTING');
    await waitFor(async () => (await stateOf()) === 'RUNNING' || undefined, { timeoutMs: 5000, what: 'web1 RUNNING' });
  });

  it('a non-ASCII program name works in both directions', async () => {
    const rpc = rpcFor(sup);
    expect(await rpc.stopProcess('café')).toBe(true);
    expect((await rpc.getProcessInfo('café:café')).state).toBe('STOPPED');
    expect(await rpc.startProcess('café:café')).toBe(true);
    expect((await rpc.getProcessInfo('café')).name).toBe('café');
  });

  it('unknown names are fault 10 BAD_NAME, including a grouped process without its group', async () => {
    const rpc = rpcFor(sup);
    expect(await fault(rpc.getProcessInfo('nosuch'))).toMatchObject({ faultCode: 10, faultString: 'BAD_NAME: nosuch' });
    expect(await fault(rpc.stopProcess('web1'))).toMatchObject({ faultCode: 10, faultString: 'BAD_NAME: web1' });
    expect(await fault(rpc.call('supervisor.noSuchMethod'))).toMatchObject({ faultCode: 1 });
  });
});

describe('HTTP Basic auth on [unix_http_server]', () => {
  it('401 without credentials, with a hint on where they go', async () => {
    const e = await rpcFor(secured).getAllProcessInfo().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect((e as Error).message).toMatch(/HTTP 401/);
    expect((e as Error).message).toMatch(/SUPERVISOR_USERNAME/);
  });

  it('401 with a wrong password', async () => {
    await expect(rpcFor(secured, 'alice', 'wrong').getAllProcessInfo()).rejects.toThrow(/HTTP 401/);
  });

  it('answers with the right credentials', async () => {
    const rpc = rpcFor(secured, 'alice', 'secret');
    const [sleeper] = await rpc.getAllProcessInfo();
    expect(sleeper).toMatchObject({ name: 'sleeper', group: 'sleeper' });
  });
});
