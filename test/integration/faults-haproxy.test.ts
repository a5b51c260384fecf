// Faults on the HAProxy side, with real haproxy and supervisord: restarts, outages, an operator's hand,
// and a warm-up endpoint that never answers. Each test asserts the final state read from the socket.

import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { freePort } from '../support/ports.js';
import { appProgram, listenerLog as readLog, listenerProgram, waitForResync, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let hap: HaproxyInstance;
/** A second HAProxy whose CLI allows only two connections (stats maxconn 2). */
let hapB: HaproxyInstance;
let sup: SupervisordInstance;
const ports: Record<string, number> = {};
const NAMES = ['a', 'b', 'hang'] as const;

const status = (server: string): Promise<string> => hap.serverStatus('site', server);

const shows = (server: string, prefix: string, timeoutMs = 15_000): Promise<void> =>
  hap.waitStatus('site', server, prefix, timeoutMs);

const listenerLog = (): Promise<string> => readLog(dir);
const count = (text: string, re: RegExp): number => (text.match(new RegExp(re, 'g')) ?? []).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = await makeTempDir('shf-');
  for (const n of NAMES) ports[n] = await freePort();
  const backends = [{ name: 'site', servers: NAMES.map((n) => ({ name: n, port: ports[n] as number })) }];
  hap = await startHaproxy({ dir: join(dir, 'hap'), backends });
  hapB = await startHaproxy({ dir: join(dir, 'hapB'), backends, statsMaxconn: 2 });
  const configPath = await writeListenerConfig(
    dir,
    `[haproxy]
socket = ${hap.sockets[0]}, ${hapB.sockets[0]}
timeout = 500ms
heartbeat = 500ms

[warmup]
interval = 100ms
timeout = 500ms
deadline = 15s

[program:a]
servers = site/a
warmup = /site

[program:b]
servers = site/b
warmup = /site

[program:hang]
servers = site/hang
warmup = /site
deadline = 3s
`,
  );
  const quick = { COLD_MS: 200, WARM_AFTER: 1 };
  sup = await startSupervisord({
    dir: join(dir, 'sup'),
    programs: [
      appProgram(dir, 'a', { PORT: ports['a'] as number, ...quick }),
      appProgram(dir, 'b', { PORT: ports['b'] as number, ...quick }),
      appProgram(dir, 'hang', { PORT: ports['hang'] as number, HANG: 1 }),
      listenerProgram(dir, configPath),
    ].join('\n'),
  });
  // The listener is up once it has resynced with supervisord.
  await waitForResync(dir);
}, 60_000);

afterAll(async () => {
  await sup?.stop();
  await hap?.stop();
  await hapB?.stop();
  if (dir !== undefined) await removeDir(dir);
});

describe('faults on the haproxy side', () => {
  it('haproxy restarted while a program is stopped → MAINT again without any supervisord event', async () => {
    await shows('a', 'no check');
    await sup.ctl('stop', 'a');
    await shows('a', 'MAINT', 2000);
    const before = count(await listenerLog(), /haproxy restarted; checking every server/);
    await hap.restart();
    await shows('a', 'MAINT', 5000);
    expect(count(await listenerLog(), /haproxy restarted; checking every server/)).toBe(before + 1);
    await sup.ctl('start', 'a');
    await shows('a', 'no check');
  });

  it('haproxy down while supervisorctl stop happens, up 3 s later → MAINT applied', async () => {
    await shows('b', 'no check');
    const from = (await listenerLog()).length;
    await hap.stop();
    expect((await sup.ctl('stop', 'b')).code).toBe(0);
    await sleep(3000);
    await hap.restart();
    await shows('b', 'MAINT', 5000);
    const log = (await listenerLog()).slice(from);
    // One line per outage, not one per retry (about a dozen retries happened).
    expect(count(log, /msg="haproxy unreachable; will keep retrying"/)).toBe(1);
    expect(log).toContain('msg="haproxy reachable again"');
    await sup.ctl('start', 'b');
    await shows('b', 'no check');
  });

  it('an HAProxy whose CLI slots are all taken does not hold up another; it converges once freed', async () => {
    await shows('a', 'no check');
    // Two prompt-mode connections hold both CLI slots of hapB: a third connection hangs, unanswered.
    const held: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const c = connect(hapB.sockets[0] as string);
      await new Promise<void>((resolve) => c.once('data', () => resolve()).write('prompt\n'));
      held.push(c);
    }
    try {
      await sup.ctl('stop', 'a');
      await shows('a', 'MAINT', 2000);
      await waitFor(
        async () => (await listenerLog()).includes(`msg="haproxy unreachable; will keep retrying" socket=${hapB.sockets[0]}`) || undefined,
        { timeoutMs: 5000, what: 'the listener to notice the stuck socket' },
      );
    } finally {
      for (const c of held) c.destroy();
    }
    await waitFor(async () => (await hapB.serverStatus('site', 'a')) === 'MAINT' || undefined, {
      timeoutMs: 10_000,
      what: 'site/a MAINT on the freed haproxy',
    });
    await sup.ctl('start', 'a');
    await shows('a', 'no check');
    await waitFor(async () => (await hapB.serverStatus('site', 'a')) === 'no check' || undefined, {
      timeoutMs: 10_000,
      what: 'site/a back on the freed haproxy',
    });
  });

  it("an operator's manual maint on a running program survives the heartbeat, until its next event", async () => {
    await shows('a', 'no check');
    expect(await hap.cmd('set server site/a state maint')).toBe('\n');
    await sleep(2500); // five heartbeats of 500 ms
    expect(await status('a')).toBe('MAINT');
    await sup.ctl('restart', 'a');
    await shows('a', 'no check');
  });

  it('a warm-up endpoint that accepts and never answers: deadline kept, other programs proceed', async () => {
    const from = (await listenerLog()).length;
    await sup.ctl('restart', 'hang');
    await shows('hang', 'MAINT', 2000);
    // While hang's warm-up hangs, another program goes through a full cycle.
    await sup.ctl('restart', 'b');
    await shows('b', 'no check', 5000);
    expect(await status('hang')).toBe('MAINT');
    const line = await waitFor(
      async () =>
        /msg="warm-up deadline passed; server stays in maint" process=hang:hang elapsed_ms=(\d+)/.exec((await listenerLog()).slice(from)) ??
        undefined,
      { timeoutMs: 10_000, what: 'the deadline log line for hang' },
    );
    // deadline = 3s; a request in flight at the deadline is cut by the deadline, not by its own timeout.
    expect(Number(line[1])).toBeGreaterThanOrEqual(3000);
    expect(Number(line[1])).toBeLessThan(4500);
    expect(await status('hang')).toBe('MAINT');
  });
});
