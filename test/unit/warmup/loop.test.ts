import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { DEFAULT_WARMUP } from '../../../src/config/parse.js';
import type { Probe, ProbeRequest, ProbeResult } from '../../../src/warmup/probe.js';
import { REFUSED_RETRY_MS, runWarmup, type WarmResult, type WarmupProgress } from '../../../src/warmup/warm.js';
import type { WarmupSpec } from '../../../src/warmup/spec.js';

const A = new URL('http://127.0.0.1:8081/Plone');
const B = new URL('http://127.0.0.1:8081/Plone/news');

function spec(over: Partial<WarmupSpec> = {}): WarmupSpec {
  return { ...DEFAULT_WARMUP, requests: ['/Plone', '/Plone/news'], headers: [['Host', 'www.example.org']], deadlineMs: 60_000, ...over };
}

const pass = (ms = 0): ProbeResult => ({ ok: true, status: 200, ms });
const refused = (ms = 0): ProbeResult => ({ ok: false, status: null, error: 'ECONNREFUSED', ms, connected: false });
const unavailable = (ms = 0): ProbeResult => ({ ok: false, status: 503, error: 'unexpected status 503', ms, connected: true });

interface Call {
  url: string;
  timeoutMs: number;
  at: number;
  req: ProbeRequest;
}

/**
 * A probe that answers from a script per URL (the last entry repeats), taking `took(result)` ms of fake time
 * and honouring its signal like httpProbe does.
 */
function scriptedProbe(script: Record<string, ProbeResult[]>, took: (r: ProbeResult, req: ProbeRequest) => number = (r) => r.ms) {
  const calls: Call[] = [];
  const probe: Probe = async (req) => {
    calls.push({ url: req.url.href, timeoutMs: req.timeoutMs, at: Date.now(), req });
    const list = script[req.url.href] ?? [];
    const n = calls.filter((c) => c.url === req.url.href).length;
    const result = list[Math.min(n, list.length) - 1];
    if (result === undefined) throw new Error(`no script for ${req.url.href}`);
    const ms = took(result, req);
    // setTimeout(0) still costs a (fake) millisecond, like Node's real timers, so skip it for instant answers.
    if (ms > 0) await systemClock.sleep(ms, req.signal);
    return result;
  };
  return { probe, calls };
}

/** Settle-tracking wrapper, so a test can assert "not yet settled" and no rejection goes unhandled. */
function track<T>(p: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(state, { done: true, value: v }),
    (e: unknown) => Object.assign(state, { done: true, error: e }),
  );
  return state;
}

let t0 = 0;
beforeEach(() => {
  vi.useFakeTimers();
  t0 = Date.now();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('runWarmup', () => {
  it('passes at once with no URLs, without probing', async () => {
    const { probe, calls } = scriptedProbe({});
    const out = await runWarmup(spec(), [], { probe, clock: systemClock }, new AbortController().signal);
    expect(out).toEqual({ status: 'passed', tries: 0, elapsedMs: 0, lastError: null });
    expect(calls).toHaveLength(0);
  });

  it('passes after N failures, retrying every interval, with tries and elapsed counted', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [unavailable(100), unavailable(100), pass(250)] });
    const progress: WarmupProgress[] = [];
    const run = track(
      runWarmup(spec(), [A], { probe, clock: systemClock, onProgress: (p) => progress.push(p) }, new AbortController().signal),
    );
    await vi.advanceTimersByTimeAsync(2449);
    expect(run.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.value).toEqual<WarmResult>({
      status: 'passed',
      tries: 3,
      elapsedMs: 100 + 1000 + 100 + 1000 + 250,
      lastError: `${A.href}: unexpected status 503`,
    });
    expect(calls.map((c) => c.at - t0)).toEqual([0, 1100, 2200]);
    expect(progress.map((p) => [p.url, p.attempt, p.result.ok])).toEqual([
      [A.href, 1, false],
      [A.href, 2, false],
      [A.href, 3, true],
    ]);
  });

  it('passes the spec headers, expect ranges and its signal to the probe', async () => {
    const seen: Parameters<Probe>[] = [];
    const probe: Probe = (req, expect) => {
      seen.push([req, expect]);
      return Promise.resolve(pass());
    };
    const ac = new AbortController();
    const s = spec({ expect: [{ min: 200, max: 204 }] });
    await runWarmup(s, [A], { probe, clock: systemClock }, ac.signal);
    expect(seen).toHaveLength(1);
    const [req, expected] = seen[0]!;
    expect(req.url).toBe(A);
    expect(req.headers).toEqual([['Host', 'www.example.org']]);
    expect(req.signal).toBe(ac.signal);
    expect(expected).toEqual([{ min: 200, max: 204 }]);
  });

  it('probes the second URL only after the first has passed, and retries only the failing one', async () => {
    const { probe, calls } = scriptedProbe({
      [A.href]: [unavailable(), { ok: false, status: 503, error: 'unexpected status 503', ms: 0, connected: true }, pass()],
      [B.href]: [unavailable(), pass()],
    });
    const run = track(runWarmup(spec(), [A, B], { probe, clock: systemClock }, new AbortController().signal));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.map((c) => [c.url, c.at - t0])).toEqual([
      [A.href, 0],
      [A.href, 1000],
      [A.href, 2000],
      [B.href, 2000],
      [B.href, 3000],
    ]);
    expect(run.value).toMatchObject({ status: 'passed', tries: 5, elapsedMs: 3000 });
  });

  it('resolves passed:false when the deadline passes, not before, and stops probing', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [unavailable()] });
    const run = track(
      runWarmup(spec({ deadlineMs: 4500 }), [A, B], { probe, clock: systemClock }, new AbortController().signal),
    );
    await vi.advanceTimersByTimeAsync(4499);
    expect(run.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(run.value).toEqual<WarmResult>({
      status: 'deadline',
      tries: 5,
      elapsedMs: 4500,
      lastError: `${A.href}: unexpected status 503`,
    });
    expect(calls.map((c) => c.at - t0)).toEqual([0, 1000, 2000, 3000, 4000]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(5);
  });

  it('caps each probe timeout by the time left to the deadline', async () => {
    const timeout = (req: ProbeRequest): ProbeResult => ({ ok: false, status: null, error: `timeout after ${req.timeoutMs}ms`, ms: req.timeoutMs, connected: true });
    const calls: Call[] = [];
    const probe: Probe = async (req) => {
      calls.push({ url: req.url.href, timeoutMs: req.timeoutMs, at: Date.now(), req });
      await systemClock.sleep(req.timeoutMs, req.signal);
      return timeout(req);
    };
    const run = track(
      runWarmup(spec({ timeoutMs: 10_000, deadlineMs: 15_000 }), [A], { probe, clock: systemClock }, new AbortController().signal),
    );
    await vi.advanceTimersByTimeAsync(15_000);
    expect(calls.map((c) => [c.at - t0, c.timeoutMs])).toEqual([
      [0, 10_000],
      [11_000, 4000],
    ]);
    expect(run.value).toEqual<WarmResult>({
      status: 'deadline',
      tries: 2,
      elapsedMs: 15_000,
      // The second try was cut by the deadline: the reason shown is the last real one.
      lastError: `${A.href}: timeout after 10000ms`,
    });
  });

  it('keeps the last real failure when the deadline cuts the final try short', async () => {
    const calls: Call[] = [];
    const probe: Probe = async (req) => {
      calls.push({ url: req.url.href, timeoutMs: req.timeoutMs, at: Date.now(), req });
      if (calls.length === 1) return { ok: false, status: 503, error: 'unexpected status 503', ms: 0, connected: true };
      await systemClock.sleep(req.timeoutMs, req.signal);
      return { ok: false, status: null, error: `timeout after ${req.timeoutMs}ms`, ms: req.timeoutMs, connected: true };
    };
    const run = track(runWarmup(spec({ timeoutMs: 10_000, deadlineMs: 1001 }), [A], { probe, clock: systemClock }, new AbortController().signal));
    await vi.advanceTimersByTimeAsync(1001);
    expect(calls.map((c) => c.timeoutMs)).toEqual([1001, 1]);
    expect(run.value?.lastError).toBe(`${A.href}: unexpected status 503`);
  });

  it('does not sleep past the deadline when the interval is longer than the time left', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [unavailable()] });
    const run = track(
      runWarmup(spec({ intervalMs: 10_000, deadlineMs: 2500 }), [A], { probe, clock: systemClock }, new AbortController().signal),
    );
    await vi.advanceTimersByTimeAsync(2500);
    expect(run.value).toMatchObject({ status: 'deadline', tries: 1, elapsedMs: 2500 });
    expect(calls).toHaveLength(1);
  });

  it('rejects promptly with the signal reason when cancelled mid-sleep, and probes no more', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [unavailable()] });
    const ac = new AbortController();
    const run = track(runWarmup(spec(), [A], { probe, clock: systemClock }, ac.signal));
    await vi.advanceTimersByTimeAsync(500); // first probe failed at 0; now sleeping until 1000
    expect(calls).toHaveLength(1);
    const reason = new Error('superseded by PROCESS_STATE_STOPPING');
    ac.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toMatchObject({ done: true, error: reason });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
  });

  it('rejects promptly when cancelled mid-probe, even if the probe ignores its signal', async () => {
    let calls = 0;
    const probe: Probe = () => {
      calls++;
      return new Promise<ProbeResult>(() => undefined); // hangs forever, deaf to the signal
    };
    const progress: WarmupProgress[] = [];
    const ac = new AbortController();
    const run = track(runWarmup(spec(), [A, B], { probe, clock: systemClock, onProgress: (p) => progress.push(p) }, ac.signal));
    await vi.advanceTimersByTimeAsync(300);
    expect(run.done).toBe(false);
    ac.abort(new Error('newer event'));
    await vi.advanceTimersByTimeAsync(0);
    expect(run.done).toBe(true);
    expect(run.error).toEqual(new Error('newer event'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    expect(progress).toEqual([]);
  });

  it('cancels an in-flight probe that honours the signal, and reports no progress for it', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [pass(5000)] });
    const progress: WarmupProgress[] = [];
    const ac = new AbortController();
    const run = track(runWarmup(spec(), [A, B], { probe, clock: systemClock, onProgress: (p) => progress.push(p) }, ac.signal));
    await vi.advanceTimersByTimeAsync(1000);
    ac.abort(new Error('STOPPING'));
    await vi.advanceTimersByTimeAsync(0);
    expect(run.error).toEqual(new Error('STOPPING'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(progress).toEqual([]);
  });

  it('rejects without probing when the signal is already aborted', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [pass()] });
    const ac = new AbortController();
    ac.abort(new Error('already gone'));
    await expect(runWarmup(spec(), [A], { probe, clock: systemClock }, ac.signal)).rejects.toThrow('already gone');
    expect(calls).toHaveLength(0);
  });

  it('works with a hand-written clock too (time only moves when probes or sleeps say so)', async () => {
    let now = 1_000_000;
    const sleeps: number[] = [];
    const clock = {
      now: () => now,
      sleep: (ms: number) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
      timer: () => expect.fail('runWarmup sets no timers'),
    };
    let n = 0;
    const probe: Probe = () => {
      n++;
      now += 300;
      return Promise.resolve(n < 4 ? unavailable(300) : pass(300));
    };
    const out = await runWarmup(spec({ intervalMs: 700 }), [A], { probe, clock }, new AbortController().signal);
    expect(out).toMatchObject({ status: 'passed', tries: 4, elapsedMs: 4 * 300 + 3 * 700 });
    expect(sleeps).toEqual([700, 700, 700]);
  });
});

describe('runWarmup: pacing and warm means fast', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it('retries a refused connection every REFUSED_RETRY_MS, whatever the interval', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [refused(), refused(), refused(), pass()] });
    const run = track(runWarmup(spec({ intervalMs: 5000 }), [A], { probe, clock: systemClock }, new AbortController().signal));
    await vi.advanceTimersByTimeAsync(3 * REFUSED_RETRY_MS);
    expect(run.value).toMatchObject({ status: 'passed', tries: 4 });
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 100, 200, 300]);
  });

  it('fails an accepted answer slower than max_time, says how slow, and tries again at once', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [pass(1500), pass(1200), pass(40)] });
    const run = track(runWarmup(spec({ maxTimeMs: 1000, timeoutMs: 5000 }), [A], { probe, clock: systemClock }, new AbortController().signal));
    await vi.advanceTimersByTimeAsync(3000);
    expect(run.value).toMatchObject({ status: 'passed', tries: 3, lastError: `${A.href}: slow: 1200ms > max_time 1000ms` });
    expect(calls.map((c) => c.at - t0)).toEqual([0, 1500, 2700]);
  });

  it('needs `passes` accepted answers in a row; a failure starts the count again', async () => {
    const { probe, calls } = scriptedProbe({ [A.href]: [pass(), unavailable(), pass(), pass()], [B.href]: [pass(), pass()] });
    const seen: WarmupProgress[] = [];
    const out = await runWarmupNow(spec({ passes: 2 }), [A, B], probe, (p) => seen.push(p));
    expect(out).toMatchObject({ status: 'passed', tries: 6 });
    expect(calls.map((c) => c.url)).toEqual([A.href, A.href, A.href, A.href, B.href, B.href]);
    expect(seen.map((p) => p.result.ok)).toEqual([true, false, true, true, true, true]);
  });
});

/** runWarmup under fake timers, advanced until it settles. */
async function runWarmupNow(s: WarmupSpec, urls: URL[], probe: Probe, onProgress: (p: WarmupProgress) => void): Promise<WarmResult> {
  const run = track(runWarmup(s, urls, { probe, clock: systemClock, onProgress }, new AbortController().signal));
  while (!run.done) await vi.advanceTimersByTimeAsync(100);
  if (run.error !== undefined) throw run.error;
  return run.value as WarmResult;
}
