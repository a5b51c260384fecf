// Faults on the HAProxy side, with real haproxy and supervisord: restarts, outages, an operator's hand,
// and a warm-up endpoint that never answers. Each test asserts the final state read from the socket.

import { rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { freePort } from '../support/ports.js';
import { appProgram, appsListening, listenerLog as readLog, listenerProgram, waitForLog, waitForResync, writeListenerConfig } from '../support/programs.js';
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

/** `CumConns` of `show info`: every connection HAProxy accepted, its CLI's included (this one too). */
const cumConns = async (): Promise<number> => Number(/^CumConns: (\d+)$/m.exec(await hap.cmd('show info'))?.[1] ?? NaN);

/**
 * Listens at a stats socket path while haproxy is down, counting the connections made to it and closing
 * each unanswered: a retry leaves no log line, so this is how the listener's retries are seen.
 */
async function countConnections(path: string): Promise<{ readonly count: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = createServer((c) => {
    count += 1;
    c.destroy();
  });
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return { count: () => count, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Where the first match of re at or after `from` begins in text; -1 if none. */
const at = (text: string, re: RegExp, from = 0): number => {
  const i = text.slice(from).search(re);
  return i < 0 ? -1 : from + i;
};

/** Starts the file's haproxy, supervisord, apps and listener on ports picked now. */
async function start(): Promise<void> {
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
  await appsListening(dir, NAMES);
  // The listener is up once it has resynced with supervisord.
  await waitForResync(dir);
}

async function teardown(): Promise<void> {
  await sup?.stop();
  await hap?.stop();
  await hapB?.stop();
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown);

describe('faults on the haproxy side', () => {
  it('haproxy restarted while a program is stopped → MAINT again without any supervisord event', async () => {
    await shows('a', 'no check');
    await sup.ctl('stop', 'a');
    await shows('a', 'MAINT', 2000);
    const before = count(await listenerLog(), /haproxy restarted; checking every server/);
    await hap.restart();
    await shows('a', 'MAINT', 5000);
    await waitFor(async () => count(await listenerLog(), /haproxy restarted; checking every server/) === before + 1 || undefined, {
      timeoutMs: 5000,
      what: 'the listener to log the restart once',
    });
    await sup.ctl('start', 'a');
    await shows('a', 'no check');
  });

  it('haproxy down while supervisorctl stop happens, up after several failed tries → MAINT applied', async () => {
    await shows('b', 'no check');
    const from = (await listenerLog()).length;
    await hap.stop();
    const socket = hap.sockets[0] as string;
    const tries = await countConnections(socket);
    try {
      expect((await sup.ctl('stop', 'b')).code).toBe(0);
      // The stop is known to the listener, and it has failed on this socket again and again.
      await waitForLog(dir, /msg="event received" event=PROCESS_STATE_STOPPED process=b:b /, "b's STOPPED received", from);
      await waitFor(() => tries.count() >= 3 || undefined, { timeoutMs: 15_000, what: 'three tries on the dead socket' });
    } finally {
      await tries.close();
    }
    await hap.restart();
    await shows('b', 'MAINT', 5000);
    const log = await waitForLog(dir, new RegExp(`msg="haproxy reachable again" socket=${socket}\\n`), 'haproxy reachable again', from);
    // One line per outage, not one per retry.
    expect(count(log, /msg="haproxy unreachable; will keep retrying"/)).toBe(1);
    // In order: down, the stop received while down, then the maint set on this socket, and back.
    const down = at(log, new RegExp(`msg="haproxy unreachable; will keep retrying" socket=${socket} `));
    const stopped = at(log, /msg="event received" event=PROCESS_STATE_STOPPED process=b:b /, down);
    const maint = at(log, new RegExp(`msg="server state set" socket=${socket} server=site/b state=maint`), stopped);
    const back = at(log, new RegExp(`msg="haproxy reachable again" socket=${socket}\\n`), down);
    expect([down, stopped, maint, back].every((i) => i >= 0), log).toBe(true);
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
      await waitForLog(dir, new RegExp(`msg="haproxy unreachable; will keep retrying" socket=${hapB.sockets[0]}`), 'the stuck socket', 0, 5000);
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
    // HAProxy counts every connection it accepts in CumConns, each of ours too. Five of the listener's since the
    // manual maint (heartbeats among them, one connection each): the listener has talked to this HAProxy
    // again and again, and the server is still MAINT.
    const c0 = await cumConns();
    let ours = 0;
    await waitFor(async () => (await cumConns()) - c0 - ++ours >= 5 || undefined, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'five connections of the listener (counted by haproxy in CumConns)',
    });
    expect(await status('a')).toBe('MAINT');
    await sup.ctl('restart', 'a');
    await shows('a', 'no check');
  });

  it('a warm-up endpoint that accepts and never answers: deadline kept, other programs proceed', async () => {
    const from = (await listenerLog()).length;
    await sup.ctl('restart', 'hang');
    await shows('hang', 'MAINT', 2000);
    // While hang's warm-up hangs, another program goes through a full cycle (however long that takes here).
    await sup.ctl('restart', 'b');
    await shows('b', 'no check');
    expect(await status('hang')).toBe('MAINT');
    const line = await waitFor(
      async () =>
        /msg="warm-up deadline passed; server stays in maint" process=hang:hang elapsed_ms=(\d+) tries=(\d+)/.exec((await listenerLog()).slice(from)) ??
        undefined,
      { timeoutMs: 10_000, what: 'the deadline log line for hang' },
    );
    // deadline = 3s, by the listener's own clock; how a request in flight at the deadline is cut is timed in
    // the warm-up's unit tests (fake clock). Here: b's warm-up began while hang's was still running (one
    // hanging warm-up holds up no other), and every try hang made failed.
    expect(Number(line[1])).toBeGreaterThanOrEqual(3000);
    const log = (await listenerLog()).slice(from);
    const started = at(log, /msg="warm-up started" process=hang:hang /);
    const bStarted = at(log, /msg="warm-up started" process=b:b /, started);
    const bReady = at(log, /msg="warm-up passed" process=b:b /, bStarted);
    const deadline = at(log, /msg="warm-up deadline passed; server stays in maint" process=hang:hang /);
    expect([started, bStarted, bReady, deadline].every((i) => i >= 0), log).toBe(true);
    expect(bStarted).toBeLessThan(deadline);
    const probes = log.slice(started, deadline).match(/msg="warm-up probe" process=hang:hang .*/g) ?? [];
    // A try that fails like the one before is logged at debug: at least the first, never more than tried.
    expect(probes.length).toBeGreaterThanOrEqual(1);
    expect(probes.length).toBeLessThanOrEqual(Number(line[2]));
    expect(probes.filter((p) => !p.includes(' ok=false '))).toEqual([]);
    // None waited longer than timeout = 500ms, nor than what was left of the deadline.
    // The warm-up starts at STARTING: tries before the app opens its port are refused.
    const answered = probes.filter((p) => !p.includes('error=ECONNREFUSED'));
    expect(answered.length).toBeGreaterThanOrEqual(1);
    const timeouts = answered.map((p) => Number(/error="timeout after (\d+)ms"/.exec(p)?.[1] ?? NaN));
    expect(timeouts.filter((ms) => !(ms <= 500))).toEqual([]);
    expect(await status('hang')).toBe('MAINT');
  });
});
