// The server state file as the listener writes it (HaproxyClient's `show servers state` read-back, through
// writeServerStateFile) is what the HAProxy on PATH loads with load-server-state-from-file: MAINT and
// DRAIN come back after a soft reload (-sf), a master-worker reload (-W, SIGUSR2) and a hard restart.
// scripts/test-haproxy-versions.sh runs it against Debian 11's 2.2 and Debian 13's 3.0, npm test against 2.6.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyClient } from '../../src/haproxy/client.js';
import { adminStateOf } from '../../src/haproxy/replies.js';
import { writeFileAtomic as writeServerStateFile } from '../../src/atomic-file.js';
import { haproxyVersion, requireBinary } from '../support/binaries.js';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { ROOT } from '../support/paths.js';
import { freePort } from '../support/ports.js';
import { makeTempDir, removeDir } from '../support/tmp.js';

const SERVERS = ['s1', 's2', 's3'] as const;
const be = (server: string) => ({ backend: 'be', server });

let dir: string;
const ports: number[] = [];
const started: HaproxyInstance[] = [];

/** An HAProxy that loads `<its dir>/server-state` on every start and reload. */
async function start(name: string, masterWorker: boolean): Promise<{ hap: HaproxyInstance; stateFile: string; client: HaproxyClient }> {
  const stateFile = join(dir, `${name}.state`);
  const hap = await startHaproxy({
    dir: join(dir, name),
    // No checks: a server is `no check` when ready, so the status shows the admin state alone.
    backends: [{ name: 'be', servers: SERVERS.map((s, i) => ({ name: s, port: ports[i] as number })) }],
    global: [`server-state-file ${stateFile}`],
    defaults: ['load-server-state-from-file global'],
    ...(masterWorker ? { masterWorker: true } : {}),
  });
  started.push(hap);
  const path = hap.sockets[0] as string;
  return { hap, stateFile, client: new HaproxyClient({ kind: 'unix', path, label: path }, { timeoutMs: 2000 }) };
}

/** As the listener does it: s1 maint and s2 drain in one chain, the read-back written to the state file. */
async function writeAsTheListener(client: HaproxyClient, stateFile: string): Promise<string> {
  const { answers, dump } = await client.setServerStates([
    { ref: be('s1'), state: 'maint' },
    { ref: be('s2'), state: 'drain' },
  ]);
  expect(answers).toEqual([null, null]);
  await writeServerStateFile(stateFile, dump.text);
  return dump.text;
}

/** Back to ready at runtime only: whatever is in maint or drain after the next start came from the file. */
async function readyAtRuntime(client: HaproxyClient): Promise<void> {
  const { answers } = await client.setServerStates([
    { ref: be('s1'), state: 'ready' },
    { ref: be('s2'), state: 'ready' },
  ]);
  expect(answers).toEqual([null, null]);
}

async function expectRestored(hap: HaproxyInstance, client: HaproxyClient): Promise<void> {
  expect([await hap.serverStatus('be', 's1'), await hap.serverStatus('be', 's2'), await hap.serverStatus('be', 's3')]).toEqual([
    'MAINT',
    'DRAIN',
    'no check',
  ]);
  const rows = await client.showServersState('be');
  expect(rows.map((r) => adminStateOf(r.adminState))).toEqual(['maint', 'drain', 'ready']);
}

beforeAll(async () => {
  dir = await makeTempDir('shsf-');
  for (const _ of SERVERS) ports.push(await freePort());
});

afterAll(async () => {
  for (const h of started) await h.stop();
  if (dir !== undefined) await removeDir(dir);
});

describe(`the server state file the listener writes, loaded by HAProxy ${haproxyVersion(requireBinary('haproxy'))}`, () => {
  it('a soft reload (-sf) and a hard restart restore MAINT and DRAIN from it', async () => {
    const { hap, stateFile, client } = await start('fg', false);
    await writeAsTheListener(client, stateFile);
    await readyAtRuntime(client);
    expect(await hap.serverStatus('be', 's1')).toBe('no check');
    const before = await hap.workerPid();
    await hap.reload();
    expect(await hap.workerPid()).not.toBe(before);
    await expectRestored(hap, client);

    await readyAtRuntime(client);
    await hap.restart();
    await expectRestored(hap, client);
  });

  it('a master-worker reload (-W, SIGUSR2) restores MAINT and DRAIN from it', async () => {
    const { hap, stateFile, client } = await start('mw', true);
    await writeAsTheListener(client, stateFile);
    await readyAtRuntime(client);
    const before = await hap.workerPid();
    await hap.reload();
    expect(await hap.workerPid()).not.toBe(before);
    await expectRestored(hap, client);
  });

  it('a file written by HAProxy 2.2 (its 20 columns) is loaded too: an upgrade from Debian 11 keeps the states', async () => {
    const { hap, stateFile, client } = await start('from22', false);
    const text = await writeAsTheListener(client, stateFile);
    // 2.2's header (captured from Debian 11's HAProxy) is the first 20 of the later versions' 25 columns.
    const header22 = (await readFile(join(ROOT, 'test', 'fixtures', 'haproxy', '2.2', 'show-servers-state.txt'), 'utf8')).split('\n')[1] as string;
    const columns = header22.slice(2).split(' ').length;
    expect(columns).toBe(20);
    const lines = text.split('\n');
    expect((lines[1] as string).startsWith(header22)).toBe(true);
    const cut = [lines[0], header22, ...lines.slice(2).map((l) => (l === '' ? l : l.split(' ').slice(0, columns).join(' ')))];
    await writeFile(stateFile, cut.join('\n'));
    await readyAtRuntime(client);
    await hap.restart();
    await expectRestored(hap, client);
  });
});
