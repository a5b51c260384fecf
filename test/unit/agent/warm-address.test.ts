// Warm-up with `address`: relative paths go there, with or without an HAProxy socket to ask.

import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { DEFAULT_WARMUP } from '../../../src/config/parse.js';
import { memoryLogger } from '../../support/log.js';
import type { Probe } from '../../../src/warmup/probe.js';
import type { WarmupSpec } from '../../../src/warmup/spec.js';
import { warmUp } from '../../../src/warmup/warm.js';
import { FakeHaproxy } from '../reconcile/fake-haproxy.js';

const SPEC: WarmupSpec = {
  ...DEFAULT_WARMUP,
  requests: ['/site', 'http://cache.internal:8080/purge'],
  intervalMs: 10,
  timeoutMs: 100,
  deadlineMs: 1000,
  address: { host: '::1', port: 9001 },
};
const job = { process: 'web1:web1', servers: [{ backend: 'site', server: 'web1' }], spec: SPEC };

describe('warmUp with address', () => {
  it.each([
    ['no socket at all', [] as FakeHaproxy[]],
    ['a socket that knows another address', [new FakeHaproxy('/run/a.sock', { 'site/web1': { addr: '10.0.0.9', port: 80 } })]],
  ])('probes the address, absolute URLs as given: %s', async (_name, apis) => {
    const urls: string[] = [];
    const probe: Probe = async (req) => {
      urls.push(req.url.href);
      return { ok: true, status: 200, ms: 1 };
    };
    const result = await warmUp(job, { apis, probe, clock: systemClock, log: memoryLogger() }, new AbortController().signal);
    expect(result).toMatchObject({ status: 'passed' });
    expect(urls).toEqual(['http://[::1]:9001/site', 'http://cache.internal:8080/purge']);
  });
});
