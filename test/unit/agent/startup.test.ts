// An agent-only listener's start-up: the previous listener's record, not HAProxy, says which instances are warm.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentAnswers } from '../../../src/agent/answers.js';
import { systemClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config/parse.js';
import { memoryLogger } from '../../support/log.js';
import { Controller } from '../../../src/reconcile/controller.js';
import { DesiredState } from '../../../src/reconcile/desired.js';
import type { ProcessSnapshot } from '../../../src/reconcile/snapshot.js';
import type { ProcessInfo } from '../../../src/supervisor/rpc.js';
import type { Probe } from '../../../src/warmup/probe.js';

import { processInfo } from '../reconcile/builders.js';
const CONFIG = `[agent]
listen = 127.0.0.1:9707

[program:web1]
servers = site/web1
warmup = /site
address = 127.0.0.1:8081

[program:web2]
servers = site/web2
warmup = /site
address = 127.0.0.1:8082
`;

const info = (name: string, pid: number): ProcessInfo => processInfo(name, 'RUNNING', pid);
const warmed = (pid: number): ProcessSnapshot => ({ state: 'RUNNING', pid, warmup: 'passed', warmupAt: 0, tries: 1, lastError: null });

function start(previous: Record<string, ProcessSnapshot> | null) {
  const desired = new DesiredState();
  const answers = new AgentAnswers(desired);
  const seen: string[] = [];
  desired.onChange(() => {
    for (const [key, d] of desired.all()) seen.push(`${key} ${d.state}`);
  });
  const probes: string[] = [];
  const probe: Probe = async (req) => {
    probes.push(req.url.href);
    await systemClock.sleep(5, req.signal);
    return { ok: true, status: 200, ms: 5 };
  };
  const log = memoryLogger();
  const controller = new Controller({
    config: parseConfig(CONFIG, '/etc/sh.ini', {}),
    desired,
    apis: [],
    probe,
    clock: systemClock,
    log,
    rpc: { getAllProcessInfo: async () => [info('web1', 20), info('web2', 21)] },
    self: null,
    previous,
  });
  const answer = (server: string) => answers.answerFor({ backend: 'site', server });
  return { controller, probes, seen, log, answer };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('agent only, at start-up', () => {
  it('adopts what the previous listener warmed (same pid) without answering maint; warms the rest', async () => {
    const { controller, probes, seen, log, answer } = start({ 'web1:web1': warmed(20), 'web2:web2': warmed(11) });
    controller.requestResync('start-up');
    await controller.whenResynced();
    expect(answer('web1')).toBe('ready');
    expect(answer('web2')).toBe('maint');
    await vi.advanceTimersByTimeAsync(50);
    expect(answer('web2')).toBe('ready');
    expect(probes).toEqual(['http://127.0.0.1:8082/site']);
    expect(seen.filter((s) => s.startsWith('site/web1'))).not.toContain('site/web1 maint');
    expect(log.lines.join('')).toContain('msg="resync: running and warmed by the previous listener; left ready" process=web1:web1');
  });

  it('without a record (no [listener] state_file), warms every running instance first', async () => {
    const { controller, probes, answer } = start(null);
    controller.requestResync('start-up');
    await controller.whenResynced();
    expect([answer('web1'), answer('web2')]).toEqual(['maint', 'maint']);
    await vi.advanceTimersByTimeAsync(50);
    expect([answer('web1'), answer('web2')]).toEqual(['ready', 'ready']);
    expect(probes.sort()).toEqual(['http://127.0.0.1:8081/site', 'http://127.0.0.1:8082/site']);
  });
});
