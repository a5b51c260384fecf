// Benchmark: the listener's resident memory after 10k and 1M events and across warm-up cycles, against a bare node.

import { renderComparison } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { drive } from './driver.js';
import { count, megabytes } from './format.js';
import { mixedEvent, startListenerRig, WARM, BACKEND, type ListenerRig } from './rig.js';
import { bareNodeRss, steadyRss, type Rss } from './rss.js';
import { scanLog } from './logscan.js';
import { paragraphs } from './text.js';

/** Waits until the listener has stopped talking to HAProxy, then reads its RSS a few times (no GC forced). */
async function settle(rig: ListenerRig): Promise<Rss> {
  await rig.stubs.quiet(500, 60_000);
  return steadyRss(rig.driver.pid);
}

/**
 * One warm-up cycle of the mapped program with a warm-up: STOPPING, STOPPED, STARTING, then RUNNING and wait
 * until the listener has probed the target and sent `set server … state ready`, so warm-ups never overlap.
 */
async function warmupCycles(rig: ListenerRig, cycles: number): Promise<void> {
  const key = `${BACKEND}/${WARM.server}`;
  for (let c = 0; c < cycles; c++) {
    for (let s = 0; s < 3; s++) await rig.driver.send(rig.sup.step(WARM.name));
    const ready = rig.stubs.nextReady(key, 10_000);
    ready.catch(() => undefined);
    await rig.driver.send(rig.sup.step(WARM.name));
    await ready;
  }
}

async function run(ctx: BenchContext): Promise<string> {
  const small = 10_000;
  const large = ctx.quick ? 100_000 : 1_000_000;
  const cycles = ctx.quick ? 1_000 : 10_000;
  const cyclesMark = cycles / 10;

  ctx.progress('baseline: a bare `node -e` idling');
  const bare = await bareNodeRss();

  const rig = await ctx.teardown.own('listener', startListenerRig(ctx.dir, 'memory'), (r) => r.stop());
  const start = await settle(rig);
  let sent = 0;
  const sendMixed = async (upTo: number): Promise<void> => {
    ctx.progress(`events ${count(sent)} → ${count(upTo)}`);
    await drive(rig.driver, upTo - sent, (i) => mixedEvent(rig.sup, i), sent);
    sent = upTo;
  };
  await sendMixed(small);
  const atSmall = await settle(rig);
  await sendMixed(large);
  const atLarge = await settle(rig);

  ctx.progress(`warm-up cycles 0 → ${count(cyclesMark)}`);
  await warmupCycles(rig, cyclesMark);
  const atCyclesMark = await settle(rig);
  ctx.progress(`warm-up cycles ${count(cyclesMark)} → ${count(cycles)}`);
  const t0 = Date.now();
  await warmupCycles(rig, cycles - cyclesMark);
  const cyclesMs = Date.now() - t0;
  const atCycles = await settle(rig);
  const counts = await rig.stubs.counts();
  await rig.stop();
  const log = await scanLog(rig.stderrPath);

  const growth = atLarge.rss - atSmall.rss;
  const cyclesGrowth = atCycles.rss - atCyclesMark.rss;
  const mb = (b: number): string => megabytes(b);
  const signed = (b: number): string => megabytes(b, true);
  const none = Number.NaN;
  const table = renderComparison({
    baselineName: 'bare node -e',
    subjectName: 'supervisor-haproxy',
    figures: [
      { label: 'after start-up and resync', baseline: bare.rss, subject: start.rss, format: mb },
      { label: `after ${count(small)} events`, baseline: bare.rss, subject: atSmall.rss, format: mb },
      { label: `after ${count(large)} events`, baseline: bare.rss, subject: atLarge.rss, format: mb },
      { label: `growth ${count(small)} → ${count(large)} events`, baseline: none, subject: growth, format: signed, noRatio: true },
      { label: `after ${count(cyclesMark)} warm-up cycles`, baseline: bare.rss, subject: atCyclesMark.rss, format: mb },
      { label: `after ${count(cycles)} warm-up cycles`, baseline: bare.rss, subject: atCycles.rss, format: mb },
      { label: `growth ${count(cyclesMark)} → ${count(cycles)} cycles`, baseline: none, subject: cyclesGrowth, format: signed, noRatio: true },
      { label: 'peak (VmHWM)', baseline: bare.hwm, subject: atCycles.hwm, format: mb },
    ],
  });
  const lines = [
    paragraphs(`VmRSS from /proc/<pid>/status, median of 5 readings once the listener has been quiet towards HAProxy for 0.5 s; ` +
      `no GC forced. Events: the protocol benchmark's mix (half mapped, ready on RUNNING). A warm-up cycle: STOPPING, ` +
      `STOPPED, STARTING, RUNNING of a program with \`warmup = /ok\`, the next cycle only after its ` +
      `\`set server … state ready\` (each warm-up completes: ${count(counts.warmupRequests)} probes answered for ` +
      `${count(cycles)} cycles, ${(cyclesMs / (cycles - cyclesMark)).toFixed(2)} ms a cycle).`),
    table,
    `listener log: ${count(log.lines)} lines, ${log.warn} warn, ${log.error} error; getAllProcessInfo calls: ${counts.rpcCalls}`,
    ...log.samples.map((s) => `  ${s}`),
    `goal (growth under 2 MB) from ${count(small)} to ${count(large)} events: ${growth < 2e6 ? 'met' : 'MISSED'}; ` +
      `from ${count(cyclesMark)} to ${count(cycles)} warm-up cycles: ${cyclesGrowth < 2e6 ? 'met' : 'MISSED'}`,
  ];
  return lines.join('\n') + '\n';
}

export const memory: Benchmark = {
  name: 'memory',
  title: 'Memory over time',
  run,
};
