// Benchmark: from `stopProcess` to the server out of rotation in HAProxy, health checks alone against the listener.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../test/support/frames.js';
import { startStack, supervisorRpc, type Rpc, type Stack } from '../test/support/stack.js';
import type { Teardown } from '../test/support/teardown.js';
import { renderComparison } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { count, duration } from './format.js';
import { summarize } from './stats.js';
import { paragraphs } from '../test/support/figures.js';

const CHECK = 'inter 1s fall 1 rise 1';
const CHECK_INTERVAL_MS = 1000;
const POLL_MS = 1;
const CYCLE_TIMEOUT_MS = 15_000;

interface MaintStack extends Stack {
  readonly rpc: Rpc;
}

/**
 * The site: slow-apps that are warm at once and RUNNING as soon as spawned (startsecs = 0), stopped only when
 * told, behind health checks; the listener, started later, warms with tiny intervals.
 */
async function startMaintStack(dir: string, programs: number, teardown: Teardown): Promise<MaintStack> {
  const stack = await startStack(
    {
      dir,
      apps: Array.from({ length: programs }, (_, i) => ({
        name: `svc${i + 1}`,
        env: { LISTEN_DELAY_MS: 0, COLD_MS: 0, WARM_AFTER: 0 },
        extra: ['startsecs = 0', 'autorestart = false'],
      })),
      check: CHECK,
      listeners: [
        {
          autostart: false,
          haproxy: ['timeout = 2s', 'heartbeat = 2s'],
          warmup: ['interval = 20ms', 'timeout = 1s', 'deadline = 30s'],
        },
      ],
    },
    teardown,
  );
  await stack.waitAllUp(30_000);
  return Object.assign(stack, { rpc: await supervisorRpc(stack.sup.url) });
}

interface Cycle {
  /** From just before stopProcess was sent to the first poll showing the server out. */
  readonly fromSentMs: number;
  /** From stopProcess returning (negative: HAProxy showed it out before the call returned). */
  readonly fromReturnMs: number;
  /** From startProcess returning to the first poll showing plain UP. */
  readonly backUpMs: number;
  /** Status seen first once the server left UP (MAINT, DOWN…). */
  readonly firstOut: string;
}

/** Polls `show stat` every POLL_MS until `done(status)`; returns when (performance.now()) and what it saw. */
async function pollUntil(stack: MaintStack, program: string, done: (status: string) => boolean): Promise<{ at: number; status: string }> {
  const deadline = performance.now() + CYCLE_TIMEOUT_MS;
  for (;;) {
    const status = (await stack.statuses())[program] ?? '?';
    const at = performance.now();
    if (done(status)) return { at, status };
    if (at > deadline) throw new Error(`${program}: still '${status}' in haproxy after ${CYCLE_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}


/**
 * stopProcess, wait until HAProxy shows `out`; startProcess, wait until it shows UP again. `pause()` is waited
 * before the stop and before the start: health checks run on a fixed beat, and a stop right after the check that
 * saw the server UP would always wait a whole interval, so the baseline's stops land at random points of it.
 */
async function cycle(stack: MaintStack, program: string, out: (status: string) => boolean, pause: () => Promise<void>): Promise<Cycle> {
  await pause();
  const t0 = performance.now();
  const stopping = stack.rpc.stopProcess(program);
  // Watched from the moment the call is sent: with the listener, MAINT may come before the call returns.
  const gone = pollUntil(stack, program, (s) => s !== 'UP');
  await stopping;
  const returned = performance.now();
  const first = await gone;
  const outAt = out(first.status) ? first : await pollUntil(stack, program, out);
  await pause();
  await stack.rpc.startProcess(program);
  const started = performance.now();
  const up = await pollUntil(stack, program, (s) => s === 'UP');
  return { fromSentMs: outAt.at - t0, fromReturnMs: outAt.at - returned, backUpMs: up.at - started, firstOut: first.status };
}

async function run(ctx: BenchContext): Promise<string> {
  const programs = 5;
  const listenerCycles = ctx.quick ? 30 : 200;
  // Health checks find a stopped server within one `inter` (1 s) whatever else runs, so the baseline's cycles
  // run on every program at once, and fewer of them: its figures are set by the check interval, not by load.
  const baselinePerProgram = ctx.quick ? 2 : 8;
  const random = prng(5);
  const checkPhase = (): Promise<void> => sleep(random() * CHECK_INTERVAL_MS);
  const noPause = (): Promise<void> => Promise.resolve();
  const stack = await startMaintStack(ctx.dir, programs, ctx.teardown);

  ctx.progress(`health checks alone: ${programs} programs × ${baselinePerProgram} stop/start cycles, in parallel`);
  const baseline = (
    await Promise.all(
      stack.servers.map(async (p) => {
        const out: Cycle[] = [];
        for (let i = 0; i < baselinePerProgram; i++) out.push(await cycle(stack, p, (s) => s.startsWith('DOWN'), checkPhase));
        return out;
      }),
    )
  ).flat();

  await stack.startListener({ timeoutMs: 30_000 });
  ctx.progress(`with the listener: ${listenerCycles} stop/start cycles, one at a time over ${programs} programs`);
  const ours: Cycle[] = [];
  for (let i = 0; i < listenerCycles; i++) {
    ours.push(await cycle(stack, stack.servers[i % programs] as string, (s) => s.startsWith('MAINT'), noPause));
    if ((i + 1) % 50 === 0) ctx.progress(`  ${i + 1}/${listenerCycles}`);
  }
  await stack.stop();

  const sum = (cs: readonly Cycle[], f: (c: Cycle) => number) => summarize(cs.map(f));
  const bSent = sum(baseline, (c) => c.fromSentMs);
  const oSent = sum(ours, (c) => c.fromSentMs);
  const bRet = sum(baseline, (c) => c.fromReturnMs);
  const oRet = sum(ours, (c) => c.fromReturnMs);
  const bUp = sum(baseline, (c) => c.backUpMs);
  const oUp = sum(ours, (c) => c.backUpMs);
  const beforeReturn = ours.filter((c) => c.fromReturnMs < 0).length;
  const notMaintFirst = ours.filter((c) => !c.firstOut.startsWith('MAINT'));
  const table = renderComparison({
    baselineName: 'health checks (DOWN)',
    subjectName: 'listener (MAINT)',
    figures: [
      { label: 'cycles', baseline: baseline.length, subject: ours.length, format: count, noRatio: true },
      { label: 'from sent, p50', baseline: bSent.p50, subject: oSent.p50, format: duration },
      { label: 'from sent, p99', baseline: bSent.p99, subject: oSent.p99, format: duration },
      { label: 'from sent, max', baseline: bSent.max, subject: oSent.max, format: duration },
      { label: 'from returned, p50', baseline: bRet.p50, subject: oRet.p50, format: duration, noRatio: true },
      { label: 'from returned, p99', baseline: bRet.p99, subject: oRet.p99, format: duration, noRatio: true },
      { label: 'from returned, max', baseline: bRet.max, subject: oRet.max, format: duration, noRatio: true },
      { label: 'startProcess returned → UP, p50', baseline: bUp.p50, subject: oUp.p50, format: duration },
      { label: 'startProcess returned → UP, max', baseline: bUp.max, subject: oUp.max, format: duration },
    ],
  });
  return (
    paragraphs(
      `${programs} programs (slow-app, warm at once, startsecs = 0) under real supervisord and haproxy ` +
        `(\`check ${CHECK}\`, GET /health, in both runs). Each cycle: supervisord's XML-RPC stopProcess (it returns ` +
        `once the process is gone), \`show stat\` polled every ${POLL_MS} ms until the server is out of rotation — ` +
        `DOWN by health check, or MAINT set by the listener — then startProcess, and poll until UP again (the ` +
        `listener warms /site first). Health checks run on a fixed beat, so the baseline pauses a random part of ` +
        `one interval before each stop and each start, as real stops come at any point of it. "From sent" counts ` +
        `from just before stopProcess is sent; "from returned" from its return, negative when HAProxy had the ` +
        `server out before the call came back.`,
    ) +
    '\n' +
    table +
    `with the listener: MAINT before stopProcess returned in ${beforeReturn} of ${ours.length} cycles; ` +
    `first status out of UP other than MAINT: ${notMaintFirst.length === 0 ? 'never' : notMaintFirst.map((c) => c.firstOut).join(', ')}\n`
  );
}

export const stopToMaint: Benchmark = {
  name: 'maint',
  title: 'Stop-to-MAINT latency',
  run,
};
