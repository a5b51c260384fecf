// HAProxy reloads (soft -sf, master-worker SIGUSR2, hard restart) under load never expose a cold or a stopped
// instance: the listener keeps HAProxy's server state file current, and HAProxy loads it when it starts.
// Visitor requests are counted at the app (HAProxy adds X-Forwarded-For; probes and checks have none).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readVisits, setCold, countingProgram } from '../support/counting.js';
import { fieldFromShowStat, startHaproxy, type HaproxyInstance, type HaproxyOptions } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { appsListening, listenerLog, listenerProgram, waitForLog, waitForResync, writeListenerConfig } from '../support/programs.js';
import { isMaint, readServerStateFile } from '../support/server-state.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { startVisitors, type Visitors } from '../support/visitors.js';
import { waitFor } from '../support/wait.js';

const BACKEND = 'site';
const NAMES = ['a', 'b', 'c'] as const;
/** The listener's line when its heartbeat sees a new HAProxy process (a new show info Pid, or an Uptime_sec that went back). */
const REAPPLY = /msg="haproxy restarted; /;
type Name = (typeof NAMES)[number];

let dir: string;
let appDir: string;
let stateFile: string;
let frontendPort: number;
let hapOpts: HaproxyOptions;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
const ports = {} as Record<Name, number>;

const status = (name: Name): Promise<string> => hap.serverStatus(BACKEND, name);
const shows = (name: Name, prefix: string, timeoutMs = 15_000): Promise<void> => hap.waitStatus(BACKEND, name, prefix, timeoutMs);
const siteUrl = (): string => `http://127.0.0.1:${frontendPort}/site`;
const visitors = (): Visitors => startVisitors(siteUrl(), { clients: 3, timeoutMs: 5000 });

/** Resolves once `visitors` has finished `n` more requests than it had when called. */
async function moreRequests(v: Visitors, n: number): Promise<void> {
  const from = v.done;
  await waitFor(() => v.done >= from + n, { timeoutMs: 15_000, what: `${n} more visitor requests` });
}

async function start(): Promise<void> {
  dir = await makeTempDir('shrl-');
  appDir = join(dir, 'apps');
  stateFile = join(dir, 'server-state');
  for (const n of NAMES) ports[n] = await freePort();
  frontendPort = await freePort();
  hapOpts = {
    dir: join(dir, 'hap'),
    frontends: [{ name: 'www', port: frontendPort, backend: BACKEND }],
    backends: [
      {
        name: BACKEND,
        // `/` passes from the first moment; the site path is what is cold.
        options: ['option httpchk GET /'],
        servers: NAMES.map((n) => ({ name: n, port: ports[n], check: true, options: 'inter 200ms rise 1 fall 1' })),
      },
    ],
    global: [`server-state-file ${stateFile}`],
    defaults: ['load-server-state-from-file global', 'option forwardfor'],
  };
  hap = await startHaproxy(hapOpts);
  const configPath = await writeListenerConfig(
    dir,
    `[haproxy]
socket = ${hap.sockets[0]}
timeout = 1s
heartbeat = 500ms
server_state_file = ${stateFile}

[warmup]
interval = 100ms
timeout = 1s
deadline = 60s

${NAMES.map((n) => `[program:${n}]\nservers = ${BACKEND}/${n}\nwarmup = /site\n`).join('\n')}`,
  );
  await mkdir(appDir, { recursive: true });
  sup = await startSupervisord({
    dir: join(dir, 'sup'),
    programs: [...NAMES.map((n) => countingProgram(dir, appDir, n, ports[n])), listenerProgram(dir, configPath)].join('\n'),
  });
  await appsListening(dir, NAMES);
  await waitForResync(dir);
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

/**
 * a restarted and kept cold, b stopped, c warm; HAProxy reloaded under load; then a made warm. Asserts on
 * what the apps counted and what HAProxy and the listener recorded, never on timing.
 */
async function reloadScenario(reload: () => Promise<void>): Promise<void> {
  for (const n of NAMES) await shows(n, 'UP');
  await setCold(appDir, 'a', true);
  expect((await sup.ctl('restart', 'a')).code).toBe(0);
  expect((await sup.ctl('stop', 'b')).code).toBe(0);
  await shows('a', 'MAINT', 5000);
  await shows('b', 'MAINT', 5000);
  // The listener has written its decisions: a reload from now on starts from them.
  await waitFor(
    async () => {
      const saved = await readServerStateFile(stateFile);
      return isMaint(saved.get(`${BACKEND}/a`)) && isMaint(saved.get(`${BACKEND}/b`)) && !isMaint(saved.get(`${BACKEND}/c`));
    },
    { timeoutMs: 5000, what: `a and b in maint in ${stateFile}` },
  );

  const logFrom = (await listenerLog(dir)).length;
  const aVisitsBefore = (await readVisits(appDir, 'a')).length;
  const load = visitors();
  await moreRequests(load, 20);
  const oldPid = await hap.workerPid();
  await reload();
  expect(await hap.workerPid()).not.toBe(oldPid);
  await moreRequests(load, 50);
  await waitFor(async () => REAPPLY.test((await listenerLog(dir)).slice(logFrom)), {
    timeoutMs: 10_000,
    what: 'the listener to notice the new haproxy and re-apply',
  });
  await moreRequests(load, 20);
  const during = await load.stop();

  expect(await status('a')).toBe('MAINT');
  expect(await status('b')).toBe('MAINT');
  // The new process never sent b anything, not even a connection attempt.
  const csv = await hap.cmd(`show stat ${BACKEND} 4 -1`);
  expect(fieldFromShowStat(csv, 'b', 'stot')).toBe('0');
  expect(fieldFromShowStat(csv, 'a', 'stot')).toBe('0');
  expect((await readVisits(appDir, 'a')).slice(aVisitsBefore)).toEqual([]);
  expect(during.requests).toBeGreaterThan(0);

  // Warm a: the listener's warm-up passes, a becomes UP and only then gets visitors.
  await setCold(appDir, 'a', false);
  await shows('a', 'UP');
  const after = visitors();
  await waitFor(async () => (await readVisits(appDir, 'a')).length > aVisitsBefore, { timeoutMs: 10_000, what: 'visitors on a' });
  await after.stop();
  const aVisits = (await readVisits(appDir, 'a')).slice(aVisitsBefore);
  expect(aVisits.length).toBeGreaterThan(0);
  expect(aVisits.filter((v) => v.cold)).toEqual([]);
  const log = await waitForLog(dir, /msg="warm-up passed" process=a:a /, "a's warm-up", logFrom);
  const reapplied = log.search(REAPPLY);
  const ready = log.search(/msg="warm-up passed" process=a:a /);
  expect(reapplied).toBeGreaterThanOrEqual(0);
  expect(ready).toBeGreaterThan(reapplied);

  expect((await sup.ctl('start', 'b')).code).toBe(0);
  await shows('b', 'UP');
}

describe('haproxy reloads under load with the server state file', () => {
  it('soft reload of a foreground haproxy (-sf OLDPID)', async () => {
    await reloadScenario(() => hap.reload());
  });

  it('hard restart (kill, start again)', async () => {
    await reloadScenario(() => hap.restart());
  });

  it('master-worker haproxy (-W) reloaded with SIGUSR2', async () => {
    await hap.stop();
    hap = await startHaproxy({ ...hapOpts, masterWorker: true });
    expect(hap.masterWorker).toBe(true);
    await reloadScenario(() => hap.reload());
  });

  it('no visitor request ever reached a cold instance', async () => {
    for (const n of NAMES) expect((await readVisits(appDir, n)).filter((v) => v.cold)).toEqual([]);
    expect((await readVisits(appDir, 'c')).length).toBeGreaterThan(0);
  });
});
