// Faults on the supervisord side, with real haproxy and supervisord: the listener killed mid warm-up,
// events dropped from a tiny buffer, a program removed by update. Final states read from the socket.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { isAlive } from '../support/process.js';
import { appProgram, appsListening, listenerLog as readLog, listenerProgram, waitForLog, waitForResync, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let supervisorSections: (withGone: boolean) => string;
const ports: Record<string, number> = {};
const GRP = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'] as const;
const NAMES = ['web1', 'gone', ...GRP] as const;

const status = (server: string): Promise<string> => hap.serverStatus('site', server);

const shows = (server: string, prefix: string, timeoutMs = 20_000): Promise<void> =>
  hap.waitStatus('site', server, prefix, timeoutMs);

const listenerLog = (): Promise<string> => readLog(dir);

async function listenerPid(): Promise<number> {
  return Number((await sup.ctl('pid', 'listener')).stdout.trim());
}

/** Starts the file's haproxy, supervisord, apps and listener on ports picked now. */
async function start(): Promise<void> {
  dir = await makeTempDir('shs-');
  for (const n of NAMES) ports[n] = await freePort();
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    backends: [{ name: 'site', servers: NAMES.map((n) => ({ name: n, port: ports[n] as number })) }],
  });
  const configPath = await writeListenerConfig(
    dir,
    `[haproxy]
socket = ${hap.sockets[0]}
timeout = 1s
heartbeat = 1s

[warmup]
interval = 100ms
; shorter than web1's cold page (1.5 s): a cold answer is a failed try
timeout = 1s
deadline = 30s

[program:web1]
servers = site/web1
warmup = /site

[program:gone]
servers = site/gone

[group:grp]
servers = site/%(process_name)s
`,
  );
  const quick = { COLD_MS: 100, WARM_AFTER: 1 };
  supervisorSections = (withGone) =>
    [
      appProgram(dir, 'web1', { PORT: ports['web1'] as number, LISTEN_DELAY_MS: 300, COLD_MS: 1500, WARM_AFTER: 2 }),
      withGone ? appProgram(dir, 'gone', { PORT: ports['gone'] as number, ...quick }) : '',
      `[group:grp]\nprograms = ${GRP.join(',')}\n`,
      ...GRP.map((p) => appProgram(dir, p, { PORT: ports[p] as number, ...quick }, ['startsecs = 0'])),
      // buffer_size = 1: supervisord drops all but the newest pending event whenever several come at once.
      listenerProgram(dir, configPath, { bufferSize: 1 }),
    ].join('\n');
  sup = await startSupervisord({ dir: join(dir, 'sup'), programs: supervisorSections(true) });
  await appsListening(dir, NAMES);
  await waitForResync(dir);
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hap?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

describe('faults on the supervisord side', () => {
  it('events lost from a tiny buffer during a burst → poolserial gap → resync → every server right', async () => {
    for (const p of GRP) await shows(p, 'no check');
    // Events flow once supervisord has the listener RUNNING; before that, the listener asks supervisord instead.
    await waitForLog(dir, /msg="event received"/, 'a received event');
    expect((await sup.ctl('stop', 'grp:*')).code).toBe(0);
    for (const p of GRP) await shows(p, 'MAINT', 10_000);
    const sup_log = await readFile(sup.logPath, 'utf8');
    expect(sup_log).toMatch(/event buffer overflowed, discarding event/);
    await waitForLog(dir, /msg=resync reason="poolserial jumped from \d+ to \d+"/, 'a resync for the poolserial gap');
    expect((await sup.ctl('start', 'grp:*')).code).toBe(0);
    for (const p of GRP) await shows(p, 'no check', 10_000);
  });

  it('the listener SIGKILLed while a restarted program warms up → restarted by supervisord → UP once warm', async () => {
    await shows('web1', 'no check');
    const oldPid = await listenerPid();
    const before = (await listenerLog()).length;
    expect((await sup.ctl('restart', 'web1')).code).toBe(0);
    await waitForLog(dir, /msg="warm-up started" process=web1:web1/, 'the warm-up of web1 starting', before);
    expect(await status('web1')).toBe('MAINT');
    process.kill(oldPid, 'SIGKILL');
    await waitFor(() => !isAlive(oldPid) || undefined, { timeoutMs: 5000, what: 'the old listener to die' });
    const newPid = await waitFor(
      async () => {
        const pid = await listenerPid();
        return pid > 0 && pid !== oldPid ? pid : undefined;
      },
      { timeoutMs: 15_000, what: 'supervisord to restart the listener' },
    );
    expect(newPid).not.toBe(oldPid);
    await shows('web1', 'no check', 30_000);
    // The new listener did the warm-up: it found web1 RUNNING but in maint.
    await waitForLog(dir, /msg="listener starting"[\s\S]*msg="warm-up passed" process=web1:web1/, "the new listener's warm-up of web1", before);
    // And it was warm when it went back in.
    const res = await fetch(`http://127.0.0.1:${ports['web1']}/site`);
    expect(res.headers.get('x-slow-app')).toBe('warm');
  });

  it('a program removed with reread/update → its server MAINT and forgotten', async () => {
    await shows('gone', 'no check');
    await sup.writeConf(supervisorSections(false));
    expect((await sup.ctl('reread')).stdout).toContain('gone: disappeared');
    expect((await sup.ctl('update')).stdout).toContain('gone: removed process group');
    await shows('gone', 'MAINT', 10_000);
    await waitFor(
      async () =>
        (await listenerLog()).includes('msg="process gone from supervisord; servers to maint and forgotten" process=gone:gone') ||
        undefined,
      { timeoutMs: 10_000, what: 'the listener to forget gone' },
    );
    expect(await status('gone')).toBe('MAINT');
  });
});
