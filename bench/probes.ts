// The startsecs benchmark's direct probes: an app's own boot + warm time measured without HAProxy or the
// listener, and HAProxy's view polled on a fine beat.

import { request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Stack } from '../test/support/stack.js';

/** Whether a TCP connection to 127.0.0.1:port is accepted (closed at once: no request is sent). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** performance.now() at the first accepted connection, trying every `everyMs`. */
export async function portOpenAt(port: number, everyMs: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return performance.now();
    if (performance.now() > deadline) throw new Error(`port ${port} still closed after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** GET on a fresh connection; resolves with the status (0: failed) once the whole answer is in. */
function get(port: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * GETs path back to back (the first right away: call it once the port is open) until one answers 2xx within
 * maxTimeMs: the app is warm. Returns performance.now() at the end of that answer and how many requests it took.
 */
export async function firstFastAnswer(port: number, path: string, maxTimeMs: number, timeoutMs: number): Promise<{ at: number; tries: number }> {
  const deadline = performance.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    const t = performance.now();
    const status = await get(port, path, timeoutMs);
    const at = performance.now();
    if (status >= 200 && status < 300 && at - t <= maxTimeMs) return { at, tries };
    if (at > deadline) throw new Error(`port ${port}: no fast answer on ${path} within ${timeoutMs} ms`);
    if (status === 0) await sleep(10);
  }
}

/** Polls `statuses()` every everyMs until `done` holds for them; performance.now() of that poll. */
export async function pollStatuses(
  stack: Stack,
  everyMs: number,
  timeoutMs: number,
  what: string,
  done: (s: Record<string, string>, at: number) => boolean,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await stack.statuses();
    const at = performance.now();
    if (done(s, at)) return at;
    if (at > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${JSON.stringify(s)}`);
    await sleep(everyMs);
  }
}
