import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { DEFAULT_WARMUP } from '../../../src/config/parse.js';
import { memoryLogger } from '../../support/log.js';
import type { Probe } from '../../../src/warmup/probe.js';
import type { WarmupSpec } from '../../../src/warmup/spec.js';
import { warmUp } from '../../../src/warmup/warm.js';
import { FakeHaproxy } from '../reconcile/fake-haproxy.js';

const SPEC: WarmupSpec = { ...DEFAULT_WARMUP, requests: ['/site'], intervalMs: 10, timeoutMs: 100, deadlineMs: 1000 };

function deps(probe: Probe, servers: Record<string, { addr: string; port: number }> = { 'site/web1': { addr: '127.0.0.1', port: 8081 } }) {
  const log = memoryLogger();
  return { log, deps: { apis: [new FakeHaproxy('/run/a.sock', servers)], probe, clock: systemClock, log } };
}

const job = (spec: Partial<WarmupSpec> = {}) => ({ process: 'web1:web1', servers: [{ backend: 'site', server: 'web1' }], spec: { ...SPEC, ...spec } });

describe('warmUp', () => {
  it('passes and says ready', async () => {
    const { deps: d } = deps(async () => ({ ok: true, status: 200, ms: 1 }));
    expect(await warmUp(job(), d, new AbortController().signal)).toMatchObject({ status: 'passed', tries: 1, lastError: null });
  });

  it('logs that the warm-up passed, not that the server is ready: the applier logs what HAProxy accepted', async () => {
    const { deps: d, log } = deps(async () => ({ ok: true, status: 200, ms: 1 }));
    await warmUp(job(), d, new AbortController().signal);
    const text = log.lines.join('');
    expect(text).toMatch(/msg="warm-up passed" process=web1:web1 elapsed_ms=\d+ tries=1/);
    expect(text).not.toContain('ready');
  });

  it('an unexpected failure ends as failed, says why, and follows on_deadline', async () => {
    const probe: Probe = async () => {
      throw new TypeError('boom');
    };
    const a = deps(probe);
    expect(await warmUp(job(), a.deps, new AbortController().signal)).toMatchObject({ status: 'failed', lastError: 'boom' });
    expect(a.log.lines.join('')).toContain('level=error msg="warm-up failed" process=web1:web1 error=boom then="servers stay in maint"');
    const b = deps(probe);
    expect(await warmUp(job({ onDeadline: 'ready' }), b.deps, new AbortController().signal)).toMatchObject({ status: 'forced-ready', lastError: 'boom' });
  });

  it('rejects with the reason when a newer event aborts it', async () => {
    const ac = new AbortController();
    const { deps: d } = deps(async (req) => {
      ac.abort(new Error('superseded by STOPPING'));
      throw req.signal?.reason;
    });
    await expect(warmUp(job(), d, ac.signal)).rejects.toThrow('superseded by STOPPING');
  });

  it('names the server and the cause while HAProxy does not know its address, once per cause', async () => {
    const { deps: d, log } = deps(async () => ({ ok: true, status: 200, ms: 1 }), {});
    const result = await warmUp(job({ deadlineMs: 100 }), d, new AbortController().signal);
    expect(result).toMatchObject({ status: 'deadline' });
    const waiting = log.lines.filter((l) => l.includes('warm-up waiting'));
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toContain('server=site/web1 cause="no such server on /run/a.sock"');
  });
});
