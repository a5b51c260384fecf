// One measured phase: steady load on the site while every instance is restarted in turn.

import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad } from './load.js';
import { rollingRestart, type RestartReport } from './rolling.js';
import type { Stack } from './stack.js';
import type { LoadResult } from './table.js';
import type { Teardown } from './teardown.js';

export interface PhaseOptions {
  readonly clients: number;
  readonly requestTimeoutMs: number;
  readonly settleMs: number;
  /** Per instance: give up when it is not UP again this long after its restart. */
  readonly restartTimeoutMs: number;
  readonly onRestart?: (r: RestartReport) => void;
}

export interface PhaseResult {
  readonly load: LoadResult;
  readonly restarts: readonly RestartReport[];
}

/** Load starts, settles, the rolling restart runs, load settles again and stops: what the clients saw. */
export async function runPhase(stack: Stack, opts: PhaseOptions, teardown: Teardown): Promise<PhaseResult> {
  const load = await teardown.own(
    'load',
    startLoad({ url: stack.siteUrl, concurrency: opts.clients, timeoutMs: opts.requestTimeoutMs }),
    (l) => l.kill(),
  );
  await sleep(opts.settleMs);
  const restarts = await rollingRestart(stack, {
    settleMs: opts.settleMs,
    timeoutMs: opts.restartTimeoutMs,
    ...(opts.onRestart === undefined ? {} : { onRestart: opts.onRestart }),
  });
  return { load: await load.stop(), restarts };
}
