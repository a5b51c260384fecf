// Proves the harness's HAProxy reloads: soft (-sf), master-worker (SIGUSR2) and hard; each leaves no process behind.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { freePort } from '../support/ports.js';
import { descendants, isAlive } from '../support/process.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let port: number;
const started: HaproxyInstance[] = [];

const start = async (name: string, masterWorker: boolean): Promise<HaproxyInstance> => {
  const hap = await startHaproxy({
    dir: join(dir, name),
    backends: [{ name: 'be', servers: [{ name: 's1', port }] }],
    ...(masterWorker ? { masterWorker: true } : {}),
  });
  started.push(hap);
  return hap;
};

beforeAll(async () => {
  dir = await makeTempDir('shhr-');
  port = await freePort();
});

afterAll(async () => {
  for (const h of started) await h.stop();
  if (dir !== undefined) await removeDir(dir);
});

describe('haproxy reloads in the harness', () => {
  it('soft reload in the foreground: a new process answers, the old one exits, stop() leaves none', async () => {
    const hap = await start('fg', false);
    const first = hap.pid;
    expect(await hap.workerPid()).toBe(first);
    await hap.cmd('set server be/s1 state maint');
    await hap.reload();
    const second = hap.pid;
    expect(second).not.toBe(first);
    expect(await hap.workerPid()).toBe(second);
    // Runtime state is gone with the old process (no state file here).
    expect(await hap.serverStatus('be', 's1')).not.toBe('MAINT');
    await waitFor(() => !isAlive(first), { timeoutMs: 10_000, what: `old haproxy ${first} to finish` });
    await hap.restart();
    expect(hap.pid).not.toBe(second);
    const third = hap.pid;
    await hap.stop();
    for (const pid of [first, second, third]) expect(isAlive(pid)).toBe(false);
  });

  it('master-worker: SIGUSR2 gives a new worker under the same master; stop() ends master and workers', async () => {
    const hap = await start('mw', true);
    const master = hap.pid;
    const worker = await hap.workerPid();
    expect(worker).not.toBe(master);
    expect(descendants(master)).toContain(worker);
    await hap.reload();
    expect(hap.pid).toBe(master);
    const next = await hap.workerPid();
    expect(next).not.toBe(worker);
    expect(descendants(master)).toContain(next);
    await hap.stop();
    for (const pid of [master, worker, next]) expect(isAlive(pid)).toBe(false);
  });
});
