import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config/parse.js';
import { memoryLogger } from '../../support/log.js';
import { Controller } from '../../../src/reconcile/controller.js';
import { DesiredState } from '../../../src/reconcile/desired.js';
import { stopgapChanges, type Candidate } from '../../../src/reconcile/never-empty.js';
import type { ProcessStateEvent } from '../../../src/supervisor/protocol.js';
import type { ProcessState } from '../../../src/supervisor/types.js';
import type { Probe, ProbeRequest, ProbeResult } from '../../../src/warmup/probe.js';
import { processEvent } from './builders.js';
import { FakeHaproxy } from './fake-haproxy.js';

const BASE = `[haproxy]
socket = /run/a.sock

[warmup]
interval = 1s
timeout = 5s
deadline = 30s
`;

const PROGRAMS = `
[program:web1]
servers = site/web1
warmup = /site

[program:web2]
servers = site/web2
warmup = /site

[program:plain]
servers = other/plain
`;

let serial = 0;
const ev = (name: string, state: ProcessState, from: ProcessState | null, pid: number | null = null): ProcessStateEvent =>
  processEvent(name, state, from, pid, ++serial, serial);

const PASS: ProbeResult = { ok: true, status: 200, ms: 5 };
const REFUSED: ProbeResult = { ok: false, status: null, error: 'ECONNREFUSED', ms: 0, connected: false };
const UNAVAILABLE: ProbeResult = { ok: false, status: 503, error: 'unexpected status 503', ms: 5, connected: true };

/** A controller over fake HAProxy; `answer` decides each probe by port (8081 web1, 8082 web2). */
function setup(extra = '', answer: (port: string, req: ProbeRequest) => ProbeResult | Promise<ProbeResult> = () => PASS) {
  const log = memoryLogger();
  const desired = new DesiredState();
  const hap = new FakeHaproxy('/run/a.sock', {
    'site/web1': { addr: '127.0.0.1', port: 8081 },
    'site/web2': { addr: '127.0.0.1', port: 8082 },
    'other/plain': { addr: '127.0.0.1', port: 8089 },
  });
  const probes: string[] = [];
  const probe: Probe = async (req) => {
    probes.push(req.url.port);
    await systemClock.sleep(5, req.signal);
    return answer(req.url.port, req);
  };
  const controller = new Controller({
    config: parseConfig(BASE + extra + PROGRAMS, '/etc/sh.ini', {}),
    desired,
    apis: [hap],
    probe,
    clock: systemClock,
    log,
    rpc: null,
    self: null,
  });
  const want = (backend: string, server: string) => desired.get({ backend, server })?.state;
  const status = (name: string) => controller.processes().find((t) => t.name.process === name)?.warmupStatus;
  return { controller, log, probes, want, status };
}

beforeEach(() => {
  vi.useFakeTimers();
  serial = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('warm from STARTING', () => {
  it('warms at STARTING and goes ready before RUNNING; RUNNING after it changes nothing', async () => {
    const { controller, want, probes, status } = setup();
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    expect(want('site', 'web1')).toBe('maint');
    await vi.advanceTimersByTimeAsync(20);
    expect(want('site', 'web1')).toBe('ready');
    expect(status('web1')).toBe('passed');
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 42));
    await vi.advanceTimersByTimeAsync(2000);
    expect(probes).toEqual(['8081']);
    expect(want('site', 'web1')).toBe('ready');
    expect(controller.processes().find((t) => t.name.process === 'web1')?.pid).toBe(42);
  });

  it('keeps warming through RUNNING when the warm-up has not passed yet', async () => {
    let warm = false;
    const { controller, want, probes } = setup('never_empty = no\n', () => (warm ? PASS : UNAVAILABLE));
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(20);
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 42));
    expect(want('site', 'web1')).toBe('maint');
    warm = true;
    await vi.advanceTimersByTimeAsync(1100);
    expect(want('site', 'web1')).toBe('ready');
    expect(probes).toEqual(['8081', '8081']);
  });

  it('a process that dies before RUNNING goes back to maint; each STARTING starts one fresh warm-up', async () => {
    let warm = false;
    const { controller, want, probes, log } = setup('', () => (warm ? PASS : REFUSED));
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(250);
    controller.handleEvent(ev('web1', 'BACKOFF', 'STARTING'));
    expect(want('site', 'web1')).toBe('maint');
    const before = probes.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(probes.length).toBe(before); // the cancelled warm-up probes no more
    controller.handleEvent(ev('web1', 'STARTING', 'BACKOFF'));
    controller.handleEvent(ev('web1', 'BACKOFF', 'STARTING'));
    controller.handleEvent(ev('web1', 'STARTING', 'BACKOFF'));
    await vi.advanceTimersByTimeAsync(1000);
    // One warm-up at a time: refused tries 100 ms apart, not two interleaved loops.
    const loop = probes.slice(before);
    expect(loop.length).toBeGreaterThanOrEqual(8);
    expect(loop.length).toBeLessThanOrEqual(10);
    warm = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(want('site', 'web1')).toBe('ready');
    expect(log.lines.filter((l) => l.includes('msg="warm-up cancelled"'))).toHaveLength(2);
  });

  it('without a warm-up, stays in maint through STARTING and goes ready at RUNNING', async () => {
    const { controller, want } = setup();
    controller.handleEvent(ev('plain', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(100);
    expect(want('other', 'plain')).toBe('maint');
    controller.handleEvent(ev('plain', 'RUNNING', 'STARTING', 7));
    expect(want('other', 'plain')).toBe('ready');
  });

  it('warms a process first seen RUNNING (its STARTING was never seen)', async () => {
    const { controller, want, probes } = setup();
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 9));
    expect(want('site', 'web1')).toBe('maint');
    await vi.advanceTimersByTimeAsync(20);
    expect(probes).toEqual(['8081']);
    expect(want('site', 'web1')).toBe('ready');
  });
});

describe('[warmup] concurrency', () => {
  it('warms at most N at once; the others wait their turn, and their deadline starts with their turn', async () => {
    const warm = new Set<string>();
    const { controller, want, log, probes } = setup('concurrency = 1\nnever_empty = no\n', (port) => (warm.has(port) ? PASS : UNAVAILABLE));
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(20);
    expect(new Set(probes)).toEqual(new Set(['8081']));
    expect(log.lines.join('')).toContain('msg="warm-up waiting for a slot ([warmup] concurrency)" process=web2:web2');
    warm.add('8081');
    warm.add('8082');
    await vi.advanceTimersByTimeAsync(1100);
    expect(want('site', 'web1')).toBe('ready');
    await vi.advanceTimersByTimeAsync(50);
    expect(want('site', 'web2')).toBe('ready');
  });
});

describe('never an empty backend', () => {
  it('when the last warm server goes, the warming instance whose port answers goes ready early, then back to maint once another is warm', async () => {
    const warm = new Set<string>(['8081']);
    const { controller, want, log, status } = setup('', (port) => (warm.has(port) ? PASS : UNAVAILABLE));
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 1));
    await vi.advanceTimersByTimeAsync(20);
    expect(want('site', 'web1')).toBe('ready');
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(20);
    expect(want('site', 'web2')).toBe('maint'); // web1 serves: the usual rule
    controller.handleEvent(ev('web1', 'STOPPING', 'RUNNING', 1));
    expect(want('site', 'web2')).toBe('ready'); // its port answered: a slow page beats a 503
    expect(status('web2')).toBe('stopgap');
    expect(log.lines.join('')).toMatch(/level=warn msg="backend would have no server in service: ready before warm \(its port answers\)" process=web2:web2 backend=site/);
    controller.handleEvent(ev('web1', 'STOPPED', 'STOPPING', 1));
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(20);
    expect(want('site', 'web1')).toBe('ready');
    expect(want('site', 'web2')).toBe('maint'); // web1 is warm again: web2 waits for its own warm-up
    expect(status('web2')).toBe('warming');
    warm.add('8082');
    await vi.advanceTimersByTimeAsync(1100);
    expect(want('site', 'web2')).toBe('ready');
    expect(status('web2')).toBe('passed');
  });

  it('goes ready early as soon as the port accepts a connection, not when the first (cold) page comes back', async () => {
    const { controller, want } = setup('', async (port, req) => {
      if (port === '8081') return PASS;
      req.onConnect?.();
      await systemClock.sleep(1500, req.signal); // a cold page
      return UNAVAILABLE;
    });
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 1));
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(20);
    controller.handleEvent(ev('web1', 'STOPPING', 'RUNNING', 1));
    expect(want('site', 'web2')).toBe('ready');
    await controller.stop();
  });

  it.each([
    ['waits for the port: an instance that refuses connections is never made ready early', '', REFUSED],
    ['never_empty = no keeps the usual rule', 'never_empty = no\n', UNAVAILABLE],
  ] as const)('%s', async (_title, extra, other) => {
    const { controller, want } = setup(extra, (port) => (port === '8081' ? PASS : other));
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 1));
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(20);
    controller.handleEvent(ev('web1', 'STOPPING', 'RUNNING', 1));
    await vi.advanceTimersByTimeAsync(500);
    expect(want('site', 'web2')).toBe('maint');
  });
});

describe('stopgapChanges', () => {
  const c = (key: string, backends: string[], over: Partial<Candidate>): Candidate => ({
    key,
    servers: backends.map((b) => ({ backend: b, server: key })),
    warm: false,
    stopgap: false,
    eligible: false,
    since: 0,
    ...over,
  });

  it('picks, per empty backend, the eligible process that started warming first', () => {
    const out = stopgapChanges([c('a', ['x'], { eligible: true, since: 20 }), c('b', ['x'], { eligible: true, since: 10 }), c('d', ['y'], { warm: true })]);
    expect(out).toEqual({ start: [{ key: 'b', backend: 'x' }], end: [] });
  });

  it('ends a stopgap only when every backend of it has a warm server', () => {
    const two = c('s', ['x', 'y'], { stopgap: true });
    expect(stopgapChanges([two, c('w', ['x'], { warm: true })]).end).toEqual([]);
    expect(stopgapChanges([two, c('w', ['x', 'y'], { warm: true })]).end).toEqual(['s']);
  });

  it('does nothing while a backend is served', () => {
    expect(stopgapChanges([c('a', ['x'], { eligible: true }), c('s', ['x'], { stopgap: true })])).toEqual({ start: [], end: [] });
  });
});
