import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { memoryLogger } from '../../support/log.js';
import { SocketApplier } from '../../../src/reconcile/applier.js';
import { DesiredState } from '../../../src/reconcile/desired.js';
import { FakeHaproxy } from './fake-haproxy.js';

const S1 = { backend: 'plone', server: 'i1' };
const S2 = { backend: 'plone', server: 'i2' };

function setup(opts: { dryRun?: boolean; stateFile?: string } = {}) {
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
    stateFile: opts.stateFile ?? null,
  });
  desired.onChange(() => applier.kick());
  applier.start();
  return { log, desired, hap, applier };
}

const settle = () => vi.advanceTimersByTimeAsync(1);
/** Past the least gap between two passes (10 ms): the next pass has gone out. */
const nextPass = () => vi.advanceTimersByTimeAsync(20);

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
    hap.down = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(hap.commands).toEqual(['set server plone/i1 state ready']);
    // Reachable again, nothing pending.
    await applier.whenIdle();
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
    // A drain decision reads the live state first: drain must never replace a maint.
    expect(hap.reads - reads).toBe(1);
    // Only the latest decision per server is sent.
    expect(hap.commands).toEqual(['set server plone/i1 state ready', 'set server plone/i2 state drain']);
    // i1 was ready before the pass and is ready after it: only i2 changed.
    expect(log.lines.filter((l) => l.includes('msg="server state set"'))).toHaveLength(1);
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
    expect(log.lines.join('')).toContain('haproxy restarted; checking every server against the listener');
    await applier.stop();
  });

  it('re-applies everything when HAProxy restarted with the same pid (2.2 has no Start_time_sec: by Uptime_sec)', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([S1], 'maint', 'app:i1');
    await vi.advanceTimersByTimeAsync(5000);
    hap.restart({ samePid: true });
    expect(hap.stateOf('plone/i1')).toBe('ready');
    await vi.advanceTimersByTimeAsync(2100);
    expect(hap.stateOf('plone/i1')).toBe('maint');
    expect(log.lines.join('')).toMatch(/haproxy restarted; checking every server against the listener" socket=sock-a was="pid 100, up [45] s" now="pid 100, up [0-2] s"/);
    await applier.stop();
  });

  it('names the HAProxy version once per process, and carries on with one warning when it is not supported', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([S1], 'maint', 'app:i1');
    await vi.advanceTimersByTimeAsync(10_000);
    const versionLines = () => log.lines.filter((l) => l.includes('msg="haproxy version'));
    expect(versionLines()).toHaveLength(1);
    expect(versionLines()[0]).toContain('level=info msg="haproxy version" socket=sock-a version=2.2.9-2+deb11u6 supported="2.2 to 3.x"');
    hap.version = '2.0.33-1';
    hap.restart();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(versionLines()).toHaveLength(2);
    expect(versionLines()[1]).toContain(
      'level=warn msg="haproxy version not supported; carrying on" socket=sock-a version=2.0.33-1 reason="HAProxy 2.0.33-1 is older than 2.2, the oldest supported (HAProxy 2.2 to 3.x)"',
    );
    expect(hap.stateOf('plone/i1')).toBe('maint');
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

  it('never turns a maint into drain (restart took the server out; STOPPING would put it back for cookies)', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([S1], 'ready', 'app:i1');
    await settle();
    hap.admin.set('plone/i1', 0x01); // `restart --maint` took it out before stopping the process
    desired.set([S1], 'drain', 'app:i1'); // the STOPPING that restart's stopProcess causes
    await nextPass();
    expect(hap.stateOf('plone/i1')).toBe('maint');
    expect(hap.commands).toEqual(['set server plone/i1 state ready']);
    expect(log.lines.join('')).toContain('msg="server state kept" socket=sock-a server=plone/i1 state=maint process=app:i1 instead_of=drain');
    desired.set([S1], 'maint', 'app:i1'); // STOPPED
    await nextPass();
    expect(hap.commands).toEqual(['set server plone/i1 state ready', 'set server plone/i1 state maint']);
    await applier.stop();
  });

  it('after an HAProxy restart, keeps a tighter state that was there before it (restored from the state file)', async () => {
    const { desired, hap, applier, log } = setup();
    desired.set([S1], 'ready', 'app:i1');
    await settle();
    hap.admin.set('plone/i1', 0x08); // `restart` drains it while the process still runs
    await vi.advanceTimersByTimeAsync(2100); // a heartbeat sees the drain
    hap.restart();
    hap.admin.set('plone/i1', 0x08); // the new process restored the drain from the state file
    await vi.advanceTimersByTimeAsync(2100);
    expect(log.lines.join('')).toContain('haproxy restarted');
    expect(hap.stateOf('plone/i1')).toBe('drain');
    expect(hap.commands).toEqual(['set server plone/i1 state ready']);
    expect(log.lines.join('')).toContain('instead_of=ready why="tighter than the listener decided, as before haproxy restarted"');
    await applier.stop();
  });

  it('after an HAProxy restart, re-applies a ready that a stale state file undid', async () => {
    const { desired, hap, applier } = setup();
    desired.set([S1], 'ready', 'app:i1');
    await settle();
    hap.restart();
    hap.admin.set('plone/i1', 0x01); // an older file said maint
    await vi.advanceTimersByTimeAsync(2100);
    expect(hap.stateOf('plone/i1')).toBe('ready');
    expect(hap.commands).toEqual(['set server plone/i1 state ready', 'set server plone/i1 state ready']);
    await applier.stop();
  });

  it('logs a state once, however many decisions repeat it', async () => {
    const { desired, hap, applier, log } = setup();
    await settle();
    for (let i = 0; i < 3; i++) {
      desired.set([S1], 'maint', 'app:i1'); // STOPPING, STOPPED, STARTING
      await nextPass();
    }
    expect(hap.commands).toHaveLength(3);
    expect(log.lines.filter((l) => l.includes('msg="server state set"'))).toHaveLength(1);
    await applier.stop();
  });

  it('names the fix when HAProxy refuses for want of level admin', async () => {
    const { desired, hap, applier, log } = setup();
    const set = hap.setServerStates.bind(hap);
    hap.setServerStates = async (changes) => ({ ...(await set([])), answers: changes.map(() => 'Permission denied') });
    desired.set([S1], 'maint', 'app:i1');
    await settle();
    expect(log.lines.join('')).toContain("fix=\"give the stats socket sock-a 'level admin' in haproxy.cfg");
    await applier.stop();
  });

  it('keeps the server state file current: after a change, and after checking a restarted HAProxy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'applier-'));
    const path = join(dir, 'server-state');
    const { desired, hap, applier } = setup({ stateFile: path });
    desired.set([S1], 'maint', 'app:i1');
    await settle();
    await vi.waitFor(() => expect(readFileSync(path, 'utf8')).toContain('plone/i1 1'));
    hap.restart();
    rmSync(path);
    await vi.advanceTimersByTimeAsync(2100);
    await vi.waitFor(() => expect(readFileSync(path, 'utf8')).toContain('plone/i1 1'));
    expect(readdirSync(dir)).toEqual(['server-state']);
    await applier.stop();
    rmSync(dir, { recursive: true });
  });

  it('sends the first decision after a quiet spell at once; in a burst, what comes during a pass shares the next', async () => {
    const { desired, hap, applier } = setup();
    await vi.advanceTimersByTimeAsync(100);
    desired.set([S1], 'maint', 'app:i1');
    await vi.advanceTimersByTimeAsync(0);
    expect(hap.connections).toBe(1);
    desired.set([S2], 'maint', 'app:i2');
    desired.set([S1], 'ready', 'app:i1');
    await vi.advanceTimersByTimeAsync(1);
    expect(hap.connections).toBe(1);
    await nextPass();
    expect(hap.connections).toBe(2);
    expect(hap.commands.slice(1)).toEqual(['set server plone/i1 state ready', 'set server plone/i2 state maint']);
    await applier.stop();
  });
});
