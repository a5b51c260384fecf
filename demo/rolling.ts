// A rolling restart as an operator does it: `supervisorctl restart` each instance, next one once HAProxy has it back.

import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../test/support/wait.js';
import type { Stack } from './stack.js';

export interface RestartReport {
  readonly program: string;
  readonly oldPid: number;
  readonly newPid: number;
  /** From `supervisorctl restart` until HAProxy showed the server UP again. */
  readonly backAfterMs: number;
}

export interface RollingOptions {
  /** Wait after a server is UP again before restarting the next (traffic settles on it). */
  readonly settleMs: number;
  /** Give up when a server is not UP again this long after its restart. */
  readonly timeoutMs: number;
  readonly onRestart?: (r: RestartReport) => void;
}

/** Restarts every program of the stack in turn; each must leave plain `UP` in HAProxy and come back to it. */
export async function rollingRestart(stack: Stack, opts: RollingOptions): Promise<RestartReport[]> {
  const reports: RestartReport[] = [];
  for (const { name } of stack.servers) {
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
      { timeoutMs: opts.timeoutMs, intervalMs: 25, what: `${stack.backend}/${name} to go away and come back UP` },
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
