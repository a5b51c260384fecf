// Benchmark: events/s and acknowledgement latency of the listener against supervisor's own Python helper (the floor).

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderComparison } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import type { ProtocolDriver } from './driver.js';
import { count, duration, rate } from './format.js';
import { Supervisor } from './frames.js';
import { scanLog } from './logscan.js';
import { ALL_PROGRAMS, expectedStates, MAPPED, mismatches, mixedEvent, startFloor, startListenerRig, UNMAPPED } from './rig.js';
import { summarize } from './stats.js';

export interface DriveResult {
  readonly latenciesMs: Float64Array;
  readonly elapsedMs: number;
}

/** Sends `n` events one at a time, as supervisord does, timing each acknowledgement. */
export async function drive(driver: ProtocolDriver, n: number, next: (i: number) => Buffer, offset = 0): Promise<DriveResult> {
  const latenciesMs = new Float64Array(n);
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) latenciesMs[i] = await driver.send(next(offset + i));
  } catch (e) {
    throw await driver.explain(e as Error);
  }
  return { latenciesMs, elapsedMs: performance.now() - t0 };
}

async function measure(driver: ProtocolDriver, sup: Supervisor, warmup: number, n: number): Promise<DriveResult> {
  await drive(driver, warmup, (i) => mixedEvent(sup, i));
  return drive(driver, n, (i) => mixedEvent(sup, i), warmup);
}

async function run(ctx: BenchContext): Promise<string> {
  const n = ctx.quick ? 10_000 : 100_000;
  const warmup = ctx.quick ? 1_000 : 5_000;

  ctx.progress(`floor: python childutils listener, ${count(warmup)} + ${count(n)} events`);
  const floorDriver = await ctx.teardown.own('floor', startFloor(join(ctx.dir, 'floor.log')), (d) => d.stop());
  const floor = await measure(floorDriver, new Supervisor(ALL_PROGRAMS), warmup, n);
  await floorDriver.stop();

  ctx.progress(`supervisor-haproxy listener (stub HAProxy socket and XML-RPC), ${count(warmup)} + ${count(n)} events`);
  const rig = await ctx.teardown.own('listener', startListenerRig(ctx.dir, 'protocol'), (r) => r.stop());
  const ours = await measure(rig.driver, rig.sup, warmup, n);
  const settled = await rig.stubs.quiet(500, 30_000);
  await rig.stop();
  const log = await scanLog(rig.stderrPath);

  const f = summarize(floor.latenciesMs);
  const o = summarize(ours.latenciesMs);
  const perSecond = (r: DriveResult): number => (r.latenciesMs.length / r.elapsedMs) * 1000;
  const table = renderComparison({
    baselineName: 'python childutils (floor)',
    subjectName: 'supervisor-haproxy',
    figures: [
      { label: 'events/s', baseline: perSecond(floor), subject: perSecond(ours), format: rate },
      { label: 'ack p50', baseline: f.p50, subject: o.p50, format: duration },
      { label: 'ack p99', baseline: f.p99, subject: o.p99, format: duration },
      { label: 'ack p99.9', baseline: f.p999, subject: o.p999, format: duration },
      { label: 'ack max', baseline: f.max, subject: o.max, format: duration },
    ],
  });
  const wrong = mismatches(settled.states, expectedStates(rig.sup));
  const goal = perSecond(ours) >= perSecond(floor);
  const lines = [
    `${count(n)} PROCESS_STATE events, one in flight, measured after ${count(warmup)} unmeasured; half for the ` +
      `${MAPPED.length} mapped programs, half for ${UNMAPPED.length} unmapped; 4 of the ${MAPPED.length + UNMAPPED.length} ` +
      `names non-ASCII (café, wörker, 日本語, 🚀rocket). Ack = from writing the event to reading RESULT 2\\nOK and READY\\n.`,
    '',
    table,
    `stub HAProxy saw ${count(settled.setServer)} set server, ${count(settled.showServersState)} show servers state, ` +
      `${count(settled.showInfo)} show info; getAllProcessInfo calls: ${settled.rpcCalls} (1 = the start-up resync only)`,
    `final server states match supervisord's: ${wrong.length === 0 ? 'yes' : `NO (${wrong.join('; ')})`}; ` +
      `listener log: ${count(log.lines)} lines, ${log.warn} warn, ${log.error} error`,
    ...log.samples.map((s) => `  ${s}`),
    `goal (at least the floor's rate): ${goal ? 'met' : 'MISSED'}`,
  ];
  return lines.join('\n') + '\n';
}

export const protocol: Benchmark = {
  name: 'protocol',
  title: 'Protocol throughput and acknowledgement latency',
  run,
};
