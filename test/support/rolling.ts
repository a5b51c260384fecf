// A rolling restart under load, as the demo shows it and the rolling benchmark measures it: the site, its
// presets, `supervisorctl restart` of each instance in turn while keep-alive clients request the site.

import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad, type LoadResult } from './load.js';
import { startStack, warmInstances, type Stack } from './stack.js';
import type { Teardown } from './teardown.js';
import { waitFor } from './wait.js';

export const PHASE_A = 'health checks alone';
export const PHASE_B = 'with the listener';

export interface AppSettings {
  /** The app opens its port this long after it starts (a Zope boot). */
  readonly listenDelayMs: number;
  /** Each site request takes this long while the app is cold. */
  readonly coldMs: number;
  /** Site requests answered before the app is warm. */
  readonly warmAfter: number;
}

export interface RollingSettings {
  readonly instances: number;
  /** Concurrent keep-alive clients of the load. */
  readonly clients: number;
  readonly app: AppSettings;
  /** HAProxy health checks, as on each `server` line. */
  readonly check: string;
  /** A request slower than this counts as slow, and a warm-up request slower than this fails. */
  readonly slowMs: number;
  /** Pause after a server is back UP before the next restart, and around each phase. */
  readonly settleMs: number;
  /** A load request with no answer by then counts as failed. */
  readonly requestTimeoutMs: number;
}

const FULL: RollingSettings = {
  instances: 3,
  clients: 8,
  // Opens its port 1.5 s after start (a Zope boot): long enough for health checks (fall 2 × 500 ms) to notice.
  app: { listenDelayMs: 1500, coldMs: 1500, warmAfter: 3 },
  check: 'inter 500ms rise 2 fall 2',
  slowMs: 1000,
  settleMs: 1000,
  requestTimeoutMs: 15_000,
};

const QUICK: RollingSettings = { ...FULL, clients: 4, app: { ...FULL.app, coldMs: 1200, warmAfter: 2 }, settleMs: 500 };

/** The full run, or a shorter one for CI (`--quick`). */
export const rollingSettings = (quick: boolean): RollingSettings => (quick ? QUICK : FULL);

/**
 * The site (slow-app instances behind health checks, the listener not started yet), every instance UP in
 * HAProxy and warm; `teardown` stops it.
 */
export async function startRollingSite(dir: string, s: RollingSettings, teardown: Teardown): Promise<Stack> {
  const stack = await startStack(
    {
      dir,
      apps: Array.from({ length: s.instances }, (_, i) => ({
        name: `app${i + 1}`,
        env: { LISTEN_DELAY_MS: s.app.listenDelayMs, COLD_MS: s.app.coldMs, WARM_AFTER: s.app.warmAfter },
      })),
      // Like a real site: /health passes as soon as the port answers, long before the site path is fast.
      check: s.check,
      listeners: [
        {
          autostart: false,
          haproxy: ['timeout = 2s', 'heartbeat = 1s'],
          warmup: ['interval = 250ms', 'timeout = 10s', `max_time = ${s.slowMs}ms`, 'deadline = 60s'],
        },
      ],
    },
    teardown,
  );
  teardown.add('stack', () => stack.stop());
  await stack.waitAllUp(30_000);
  await warmInstances(stack, s.app.warmAfter);
  return stack;
}

export interface RestartReport {
  readonly program: string;
  readonly oldPid: number;
  readonly newPid: number;
  /** From `supervisorctl restart` until HAProxy showed the server UP again. */
  readonly backAfterMs: number;
}

export interface PhaseOptions {
  readonly clients: number;
  readonly requestTimeoutMs: number;
  /** Pause after a server is UP again before restarting the next (traffic settles on it), and around the phase. */
  readonly settleMs: number;
  /** Per instance: give up when it is not UP again this long after its restart. */
  readonly restartTimeoutMs: number;
  readonly onRestart?: (r: RestartReport) => void;
}

export interface PhaseResult {
  readonly load: LoadResult;
  readonly restarts: readonly RestartReport[];
}

/** Restarts every server of the stack in turn; each must leave plain `UP` in HAProxy and come back to it. */
async function rollingRestart(stack: Stack, opts: PhaseOptions): Promise<RestartReport[]> {
  const reports: RestartReport[] = [];
  for (const name of stack.servers) {
    const oldPid = await stack.pid(name);
    const t0 = Date.now();
    // Watched from before the restart: `supervisorctl restart` returns once the new process is RUNNING,
    // when HAProxy may not even have noticed the old one is gone (health checks alone) — seeing the server
    // leave UP first keeps a stale UP from counting as "back".
    let left = false;
    const back = waitFor(
      async () => {
        const status = (await stack.statuses())[name];
        if (status !== 'UP') left = true;
        return left && status === 'UP';
      },
      { timeoutMs: opts.restartTimeoutMs, intervalMs: 25, what: `${name} to go away and come back UP` },
    );
    back.catch(() => undefined); // awaited below; a failed restart must not leave it unhandled
    const res = await stack.sup.ctl('restart', name);
    if (res.code !== 0) throw new Error(`supervisorctl restart ${name}: ${(res.stdout + res.stderr).trim()}`);
    await back;
    const report = { program: name, oldPid, newPid: await stack.pid(name), backAfterMs: Date.now() - t0 };
    reports.push(report);
    opts.onRestart?.(report);
    await sleep(opts.settleMs);
  }
  return reports;
}

/** One measured phase: load starts, settles, the rolling restart runs, load settles again and stops. */
export async function runPhase(stack: Stack, opts: PhaseOptions, teardown: Teardown): Promise<PhaseResult> {
  const load = await teardown.own(
    'load',
    startLoad({ url: stack.siteUrl, concurrency: opts.clients, timeoutMs: opts.requestTimeoutMs }),
    (l) => l.kill(),
  );
  await sleep(opts.settleMs);
  const restarts = await rollingRestart(stack, opts);
  return { load: await load.stop(), restarts };
}
