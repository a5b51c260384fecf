import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { memoryLogger } from '../../../src/log.js';
import { SocketApplier } from '../../../src/reconcile/applier.js';
import { DesiredState } from '../../../src/reconcile/desired.js';
import { FakeHaproxy } from './fake-haproxy.js';

const S1 = { backend: 'plone', server: 'i1' };
const S2 = { backend: 'plone', server: 'i2' };

function setup(opts: { dryRun?: boolean } = {}) {
  const log = memoryLogger();
  const desired = new DesiredState();
  const hap = new FakeHaproxy('sock-a', {
    'plone/i1': { addr: '127.0.0.1', port: 8081 },
    'plone/i2': { addr: '127.0.0.1', port: 8082 },
  });
  const applier = new SocketApplier(hap, desired, {
    clock: systemClock,
    log,
    heartbeatMs: 2000,
    backoffMinMs: 250,
    backoffMaxMs: 4000,
    dryRun: opts.dryRun ?? false,
    batchWindowMs: 2,
    batchWindowMaxMs: 16,
  });
  desired.onChange(() => applier.kick());
  applier.start();
  return { log, desired, hap, applier };
}

const settle = () => vi.advanceTimersByTimeAsync(1);

/** The (fake) time of each pass the applier makes from now on. */
function passTimesOf(hap: FakeHaproxy): number[] {
  const times: number[] = [];
  const set = hap.setServerStates.bind(hap);
  hap.setServerStates = (changes) => {
    times.push(Date.now());
    return set(changes);
  };
  return times;
}

describe('SocketApplier', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies a decision and reads it back', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([S1], 'maint', 'app:i1');
    await settle();
    expect(hap.stateOf('plone/i1')).toBe('maint');
    expect(hap.commands).toEqual(['set server plone/i1 state maint']);
    expect(log.lines.join('')).toContain('msg="server state set" socket=sock-a server=plone/i1 state=maint');
    await applier.stop();
  });

  it('applies only the latest decision after an outage, and logs the outage once', async () => {
    const { desired, hap, applier, log } = setup();
    await settle();
    hap.down = true;
    desired.set([S1], 'maint', 'app:i1');
    await vi.advanceTimersByTimeAsync(3000);
    desired.set([S1], 'ready', 'app:i1');
    await vi.advanceTimersByTimeAsync(3000);
    expect(log.lines.filter((l) => l.includes('haproxy unreachable')).length).toBe(1);
    expect(applier.status().reachable).toBe(false);
    hap.down = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(hap.commands).toEqual(['set server plone/i1 state ready']);
    expect(applier.status()).toEqual({ socket: 'sock-a', reachable: true, pending: 0 });
    expect(log.lines.join('')).toContain('haproxy reachable again');
    await applier.stop();
  });

  it('applies a burst of decisions on one connection, the read-back chained on it', async () => {
    const { desired, hap, applier, log } = setup();
    await settle();
    const reads = hap.reads;
    desired.set([S1], 'maint', 'app:i1');
    desired.set([S2], 'drain', 'app:i2');
    desired.set([S1], 'ready', 'app:i1');
    await settle();
    expect(hap.connections).toBe(1);
    expect(hap.reads - reads).toBe(0);
    // Only the latest decision per server is sent.
    expect(hap.commands).toEqual(['set server plone/i1 state ready', 'set server plone/i2 state drain']);
    expect(log.lines.filter((l) => l.includes('msg="server state set"'))).toHaveLength(2);
    await applier.stop();
  });

  it('sends a lone decision at once; in a burst, spaces passes by the batch window', async () => {
    const { desired, hap, applier } = setup();
    await vi.advanceTimersByTimeAsync(100);
    desired.set([S1], 'maint', 'app:i1');
    await vi.advanceTimersByTimeAsync(0);
    expect(hap.connections).toBe(1);
    desired.set([S2], 'maint', 'app:i2');
    desired.set([S1], 'ready', 'app:i1');
    await vi.advanceTimersByTimeAsync(1);
    expect(hap.connections).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(hap.connections).toBe(2);
    expect(hap.commands.slice(1)).toEqual(['set server plone/i1 state ready', 'set server plone/i2 state maint']);
    await applier.stop();
  });

  it('widens the window while a burst lasts, up to its cap, and narrows it again after a quiet spell', async () => {
    const { desired, hap, applier } = setup();
    await vi.advanceTimersByTimeAsync(100);
    const passTimes = passTimesOf(hap);
    // A decision every 0.5 ms for 100 ms: passes come at once, then 2, 4, 8, 16, 16, … ms apart.
    let state: 'maint' | 'ready' = 'maint';
    for (let t = 0; t < 200; t++) {
      desired.set([t % 2 === 0 ? S1 : S2], state, 'app');
      if (t % 2 === 1) state = state === 'maint' ? 'ready' : 'maint';
      await vi.advanceTimersByTimeAsync(0.5);
    }
    await vi.advanceTimersByTimeAsync(100);
    const gaps = passTimes.slice(1).map((t, i) => t - (passTimes[i] as number));
    expect(gaps.slice(0, 4)).toEqual([2, 4, 8, 16]);
    expect(Math.max(...gaps)).toBe(16);
    expect(passTimes.length).toBeLessThan(12);
    // After the quiet spell, a lone decision goes out at once again, and the next one 2 ms after it.
    const before = passTimes.length;
    desired.set([S1], 'maint', 'app');
    await vi.advanceTimersByTimeAsync(0);
    expect(passTimes.length).toBe(before + 1);
    desired.set([S1], 'ready', 'app');
    await vi.advanceTimersByTimeAsync(1.5);
    expect(passTimes.length).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(0.5);
    expect(passTimes.length).toBe(before + 2);
    await applier.stop();
  });

  it('keeps the narrow window for a chain of decisions for one server, however close together', async () => {
    const { desired, hap, applier } = setup();
    await vi.advanceTimersByTimeAsync(100);
    const passTimes = passTimesOf(hap);
    // What a warm-up cycle that passes at once looks like: maint, ready, maint, … 1.5 ms apart.
    for (let i = 0; i < 40; i++) {
      desired.set([S1], i % 2 === 0 ? 'maint' : 'ready', 'app');
      await vi.advanceTimersByTimeAsync(1.5);
    }
    await vi.advanceTimersByTimeAsync(100);
    const gaps = passTimes.slice(1).map((t, i) => t - (passTimes[i] as number));
    expect(Math.max(...gaps)).toBe(2);
    expect(passTimes.length).toBeGreaterThan(25);
    await applier.stop();
  });

  it('backs off up to its cap while HAProxy is down', async () => {
    const { desired, hap, applier } = setup();
    hap.down = true;
    let tries = 0;
    const info = hap.showInfo.bind(hap);
    hap.showInfo = () => {
      tries += 1;
      return info();
    };
    desired.set([S1], 'maint', 'app:i1');
    await vi.advanceTimersByTimeAsync(60_000);
    // 250, 500, 1000, 2000, then every 4000 ms: about 18 tries in a minute, not hundreds.
    expect(tries).toBeGreaterThan(10);
    expect(tries).toBeLessThan(25);
    await applier.stop();
  });

  it('re-applies everything when HAProxy restarted (new Pid)', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([S1, S2], 'maint', 'app');
    await settle();
    hap.restart();
    expect(hap.stateOf('plone/i1')).toBe('ready');
    await vi.advanceTimersByTimeAsync(2100);
    expect(hap.stateOf('plone/i1')).toBe('maint');
    expect(hap.stateOf('plone/i2')).toBe('maint');
    expect(log.lines.join('')).toContain('haproxy restarted; re-applying desired state');
    await applier.stop();
  });

  it("leaves an operator's manual change alone across heartbeats", async () => {
    const { desired, hap, applier } = setup();
    desired.set([S1], 'ready', 'app:i1');
    await settle();
    hap.admin.set('plone/i1', 0x01); // operator: set server plone/i1 state maint
    await vi.advanceTimersByTimeAsync(10_000);
    expect(hap.stateOf('plone/i1')).toBe('maint');
    expect(hap.commands).toEqual(['set server plone/i1 state ready']);
    await applier.stop();
  });

  it('says so when HAProxy accepts a command that changes nothing, without looping', async () => {
    const { desired, hap, applier, log } = setup();
    hap.admin.set('plone/i2', 0x02); // MAINT (via tracked server)
    hap.stuck.add('plone/i2');
    desired.set([S2], 'ready', 'app:i2');
    await vi.advanceTimersByTimeAsync(5000);
    expect(hap.commands).toEqual(['set server plone/i2 state ready']);
    expect(log.lines.join('')).toContain('accepted the command but the server is not in that state');
    await applier.stop();
  });

  it('logs a refused command and does not retry it', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([{ backend: 'plone', server: 'nope' }], 'maint', 'x');
    await vi.advanceTimersByTimeAsync(5000);
    expect(hap.commands).toEqual(['set server plone/nope state maint']);
    expect(log.lines.join('')).toContain('haproxy refused command');
    await applier.stop();
  });

  it('sends nothing in dry-run mode', async () => {
    const { desired, hap, applier, log } = setup({ dryRun: true });
    desired.set([S1], 'maint', 'app:i1');
    await settle();
    expect(hap.commands).toEqual([]);
    expect(log.lines.join('')).toContain('dry-run: would send');
    await applier.stop();
  });
});
