import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config/parse.js';
import { memoryLogger } from '../../support/log.js';
import type { ProcessSnapshot } from '../../../src/reconcile/snapshot.js';
import { Controller } from '../../../src/reconcile/controller.js';
import { DesiredState } from '../../../src/reconcile/desired.js';
import type { ProcessStateEvent, SupervisorEvent } from '../../../src/supervisor/protocol.js';
import type { ProcessInfo } from '../../../src/supervisor/rpc.js';
import type { ProcessState } from '../../../src/supervisor/types.js';
import type { Probe, ProbeResult } from '../../../src/warmup/probe.js';
import { processEvent, processInfo } from './builders.js';
import { FakeHaproxy } from './fake-haproxy.js';

const CONFIG = `[haproxy]
socket = /run/a.sock

[warmup]
interval = 1s
timeout = 2s
deadline = 10s

[program:web1]
servers = site/web1
warmup = /site

[program:web2]
servers = site/web2
on_stopping = drain

[program:never]
servers = site/never
warmup = /site
deadline = 3s
`;

const info = processInfo;

let serial = 0;
let poolserial = 0;
function ev(
  name: string,
  state: ProcessState,
  from: ProcessState | null,
  pid: number | null = null,
  opts: { serial?: number; poolserial?: number } = {},
): ProcessStateEvent {
  return processEvent(name, state, from, pid, opts.serial ?? ++serial, opts.poolserial ?? ++poolserial);
}

function setup(
  infos: ProcessInfo[] | 'down' | null = [],
  probeResult: (url: string) => ProbeResult = () => ({ ok: true, status: 200, ms: 5 }),
  previous: Record<string, ProcessSnapshot> | null = null,
) {
  const log = memoryLogger();
  const desired = new DesiredState();
  const hap = new FakeHaproxy('/run/a.sock', {
    'site/web1': { addr: '127.0.0.1', port: 8081 },
    'site/web2': { addr: '127.0.0.1', port: 8082 },
    'site/never': { addr: '127.0.0.1', port: 8083 },
  });
  const probes: string[] = [];
  const probe: Probe = async (req) => {
    probes.push(req.url.href);
    await systemClock.sleep(5, req.signal);
    return probeResult(req.url.href);
  };
  const state: { infos: typeof infos; calls: number; gate: Promise<void> } = { infos: infos, calls: 0, gate: Promise.resolve() };
  const rpc =
    infos === null
      ? null
      : {
          getAllProcessInfo: async () => {
            state.calls++;
            await state.gate;
            if (state.infos === 'down') throw new Error('connect ENOENT');
            return (state.infos as ProcessInfo[]).map((i) => ({ ...i, state: i.state, statename: i.state, pid: i.pid }));
          },
        };
  const controller = new Controller({
    config: parseConfig(CONFIG, '/etc/sh.ini', {}),
    desired,
    apis: [hap],
    probe,
    clock: systemClock,
    log,
    rpc,
    self: { group: 'listener', process: 'listener' },
    previous,
  });
  const want = (server: string) => desired.get({ backend: 'site', server })?.state;
  return { controller, desired, hap, log, probes, state, want };
}

const flush = () => vi.advanceTimersByTimeAsync(1);

beforeEach(() => {
  vi.useFakeTimers();
  serial = 0;
  poolserial = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Controller: events', () => {
  it('STOPPING → maint at once; RUNNING → maint, warm-up, then ready', async () => {
    const { controller, want, probes, log } = setup(null);
    controller.handleEvent(ev('web1', 'STOPPING', 'RUNNING', 10));
    expect(want('web1')).toBe('maint');
    controller.handleEvent(ev('web1', 'STOPPED', 'STOPPING', 10));
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 11));
    expect(want('web1')).toBe('maint');
    await vi.advanceTimersByTimeAsync(50);
    expect(probes).toEqual(['http://127.0.0.1:8081/site']);
    expect(want('web1')).toBe('ready');
    expect(log.lines.join('')).toMatch(/msg="warm-up passed" process=web1:web1 elapsed_ms=\d+ tries=1/);
  });

  it('on_stopping = drain drains on STOPPING, then maint on STOPPED; no warm-up: ready on RUNNING', () => {
    const { controller, want } = setup(null);
    controller.handleEvent(ev('web2', 'STOPPING', 'RUNNING', 10));
    expect(want('web2')).toBe('drain');
    controller.handleEvent(ev('web2', 'STOPPED', 'STOPPING', 10));
    expect(want('web2')).toBe('maint');
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    controller.handleEvent(ev('web2', 'RUNNING', 'STARTING', 11));
    expect(want('web2')).toBe('ready');
  });

  it('a newer event cancels a warm-up in progress (latest wins)', async () => {
    const { controller, want, log } = setup(null, () => ({ ok: false, status: 503, error: 'unexpected status 503', ms: 5, connected: true }));
    controller.handleEvent(ev('web1', 'RUNNING', 'STARTING', 11));
    await vi.advanceTimersByTimeAsync(2500);
    controller.handleEvent(ev('web1', 'STOPPING', 'RUNNING', 11));
    expect(want('web1')).toBe('maint');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(want('web1')).toBe('maint');
    const text = log.lines.join('');
    expect(text).toContain('msg="warm-up cancelled" process=web1:web1 by=STOPPING');
    expect(text).not.toContain('deadline passed');
  });

  it('a warm-up that never passes stays maint after its deadline, and the snapshot says so', async () => {
    const { controller, want, log } = setup(null, () => ({ ok: false, status: 503, error: 'unexpected status 503', ms: 5, connected: true }));
    controller.handleEvent(ev('never', 'RUNNING', 'STARTING', 11));
    expect(controller.snapshot()).toEqual([
      ['never:never', { state: 'RUNNING', pid: 11, warmup: 'warming', warmupAt: Date.now(), tries: null, lastError: null }],
    ]);
    await vi.advanceTimersByTimeAsync(3100);
    expect(want('never')).toBe('maint');
    expect(controller.snapshot()[0]?.[1]).toMatchObject({
      warmup: 'deadline',
      tries: expect.any(Number),
      lastError: 'http://127.0.0.1:8083/site: unexpected status 503',
    });
    expect(log.lines.join('')).toMatch(/warm-up deadline passed; server stays in maint" process=never:never elapsed_ms=3\d\d\d/);
  });

  it("ignores the listener's own events and unmapped processes", () => {
    const { controller, desired } = setup(null);
    controller.handleEvent(ev('listener', 'STOPPING', 'RUNNING', 5));
    controller.handleEvent(ev('other', 'STOPPING', 'RUNNING', 5));
    expect([...desired.all()]).toEqual([]);
  });
});

describe('Controller: resync', () => {
  it('at start-up: RUNNING and ready is left as is, RUNNING in maint is warmed up, STOPPED goes maint', async () => {
    const { controller, hap, want, probes } = setup([info('web1', 'RUNNING', 20), info('web2', 'STOPPED'), info('never', 'RUNNING', 30)], (url) =>
      url.endsWith(':8083/site') ? { ok: true, status: 200, ms: 5 } : { ok: false, status: 503, error: 'x', ms: 5, connected: true },
    );
    hap.admin.set('site/never', 0x01); // maint, e.g. the old listener died mid warm-up
    controller.requestResync('start-up');
    await controller.whenResynced();
    expect(want('web1')).toBe('ready');
    expect(want('web2')).toBe('maint');
    expect(want('never')).toBe('maint');
    await vi.advanceTimersByTimeAsync(50);
    expect(probes).toEqual(['http://127.0.0.1:8083/site']);
    expect(want('never')).toBe('ready');
  });

  it("at start-up, RUNNING and ready is warmed all the same when the previous listener's record names another pid", async () => {
    const warmed = (pid: number): ProcessSnapshot => ({ state: 'RUNNING', pid, warmup: 'passed', warmupAt: 0, tries: 1, lastError: null });
    const { controller, want, probes } = setup([info('web1', 'RUNNING', 20), info('never', 'RUNNING', 21)], undefined, {
      'web1:web1': warmed(20), // the same incarnation: adopted
      'never:never': warmed(11), // restarted while no listener ran: cold, although HAProxy has it ready
    });
    controller.requestResync('start-up');
    await controller.whenResynced();
    expect(want('web1')).toBe('ready');
    expect(want('never')).toBe('maint');
    await vi.advanceTimersByTimeAsync(50);
    expect(probes).toEqual(['http://127.0.0.1:8083/site']);
    expect(want('never')).toBe('ready');
  });

  it('until the first event arrives, asks supervisord every 250 ms: a restart while events are not yet sent is seen', async () => {
    const { controller, state, want, probes, log } = setup([info('web1', 'RUNNING', 20)]);
    controller.start();
    await controller.whenResynced();
    await flush();
    expect(want('web1')).toBe('ready');
    expect(probes).toEqual([]); // found running and ready at start-up: adopted
    // web1 restarted before supervisord sends the listener anything: a new pid, still cold.
    state.infos = [info('web1', 'RUNNING', 21)];
    await vi.advanceTimersByTimeAsync(260);
    expect(log.lines.join('')).toMatch(/msg="resync: state differs" process=web1:web1 known=RUNNING actual=RUNNING known_pid=20 pid=21/);
    expect(probes).toEqual(['http://127.0.0.1:8081/site']); // out of rotation and warmed up again
    const calls = state.calls;
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(state.calls).toBe(calls);
    await controller.stop();
  });

  it('a poolserial jump triggers a resync that corrects every state', async () => {
    const { controller, state, want } = setup([info('web1', 'RUNNING', 20), info('web2', 'RUNNING', 21)]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    controller.handleEvent(ev('web1', 'STOPPING', 'RUNNING', 20, { poolserial: 1 }));
    state.infos = [info('web1', 'STOPPED'), info('web2', 'STOPPED')];
    // Events 2–5 were dropped by supervisord; the next one shows the gap.
    controller.handleEvent(ev('web1', 'STOPPED', 'STOPPING', 20, { poolserial: 6 }));
    await flush();
    expect(state.calls).toBe(2);
    expect(want('web2')).toBe('maint');
  });

  it('a replayed backlog (events from before the resync) does not undo what supervisord said', async () => {
    const { controller, want, state, log } = setup([info('web2', 'RUNNING', 22)]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    expect(want('web2')).toBe('ready');
    // The old incarnation's events, buffered while the listener was down.
    controller.handleEvent(ev('web2', 'STOPPING', 'RUNNING', 12));
    controller.handleEvent(ev('web2', 'STOPPED', 'STOPPING', 12));
    controller.handleEvent(ev('web2', 'STARTING', 'STOPPED'));
    controller.handleEvent(ev('web2', 'RUNNING', 'STARTING', 22));
    expect(want('web2')).toBe('ready');
    await flush();
    expect(want('web2')).toBe('ready');
    expect(state.calls).toBeGreaterThan(1);
    expect(log.lines.join('')).toContain('msg="event out of step with the known state; asking supervisord"');
    // Events that follow on from the truth are applied as usual.
    controller.handleEvent(ev('web2', 'STOPPING', 'RUNNING', 22));
    expect(want('web2')).toBe('drain');
  });

  it('a restart nobody told us about (same state, new pid) is treated as a new incarnation', async () => {
    const { controller, state, want } = setup([info('web1', 'RUNNING', 20)]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    state.infos = [info('web1', 'RUNNING', 99)];
    controller.requestResync('test');
    await controller.whenResynced();
    expect(want('web1')).toBe('maint'); // warming up the new process
    await vi.advanceTimersByTimeAsync(50);
    expect(want('web1')).toBe('ready');
  });

  it('with supervisord unreachable, works from events, even out-of-step ones', async () => {
    const { controller, state, want, log } = setup([info('web1', 'RUNNING', 20)]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    state.infos = 'down';
    controller.requestResync('test');
    await controller.whenResynced();
    expect(log.lines.join('')).toContain('msg="supervisord unreachable; working from events, asking again"');
    controller.handleEvent(ev('web1', 'STOPPED', 'STOPPING', 20));
    expect(want('web1')).toBe('maint');
  });

  it('an out-of-step event whose resync fails is not lost: the resync is asked again, with backoff, until it answers', async () => {
    const { controller, state, want, log } = setup([info('web1', 'RUNNING', 20)]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    await vi.advanceTimersByTimeAsync(50);
    expect(want('web1')).toBe('ready');
    // An event out of step (its from_state is not what the listener knows) while supervisord does not answer.
    state.infos = 'down';
    controller.handleEvent(ev('web1', 'STOPPING', 'BACKOFF', 20));
    await controller.whenResynced();
    expect(want('web1')).toBe('ready'); // dropped: out of step, and supervisord did not answer
    state.infos = [info('web1', 'STOPPING', 20)];
    await vi.advanceTimersByTimeAsync(300);
    await controller.whenResynced();
    expect(want('web1')).toBe('maint');
    expect(log.lines.join('')).toContain('msg="supervisord reachable again"');
    await controller.stop();
  });

  it('a resync does not forget a process whose event came while it waited for supervisord', async () => {
    const { controller, state, want } = setup([]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    // The answer is from before web1 was added (supervisorctl update); web1's STARTING comes meanwhile.
    let answer: () => void = () => undefined;
    state.gate = new Promise<void>((r) => (answer = r));
    controller.requestResync('test');
    controller.handleEvent(ev('web1', 'STARTING', 'STOPPED'));
    answer();
    await controller.whenResynced();
    expect(controller.processes().map((t) => t.name.process)).toEqual(['web1']);
    await vi.advanceTimersByTimeAsync(50);
    expect(want('web1')).toBe('ready');
  });

  it('a process removed from supervisord: its servers to maint, and forgotten', async () => {
    const { controller, state, want } = setup([info('web1', 'RUNNING', 20), info('web2', 'RUNNING', 21)]);
    controller.requestResync('start-up');
    await controller.whenResynced();
    state.infos = [info('web1', 'RUNNING', 20)];
    controller.handleEvent({
      kind: 'group-removed',
      meta: { ver: '3.0', server: 'supervisor', serial: ++serial, pool: 'listener', poolserial: ++poolserial, eventname: 'PROCESS_GROUP_REMOVED' },
      group: 'web2',
    } satisfies SupervisorEvent);
    await flush();
    expect(want('web2')).toBe('maint');
    expect(controller.processes().map((t) => t.name.process)).toEqual(['web1']);
  });
});
