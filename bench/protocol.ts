// Benchmark: events/s and acknowledgement latency of the listener against supervisor's own Python helper (the floor).

import { join } from 'node:path';
import { renderComparison } from './compare.js';
import { cpuMs } from './cpu.js';
import type { Benchmark, BenchContext } from './context.js';
import { drive, type ProtocolDriver } from './driver.js';
import { count, duration, rate, ratio } from './format.js';
import { Supervisor } from './frames.js';
import { startFloor } from './floors.js';
import { scanLog } from './logscan.js';
import {
  ALL_PROGRAMS,
  expectedStates,
  MAPPED,
  mismatches,
  mixedEvent,
  startListenerRig,
  UNMAPPED,
  unmappedEvent,
} from './rig.js';
import { summarize } from './stats.js';
import { paragraphs } from '../test/support/figures.js';

/** One listener process and the events it gets; measured a slice at a time, taking turns with the others. */
class Subject {
  private sent = 0;
  private elapsedMs = 0;
  private cpuUsedMs = 0;
  /** Events measured: the sum of the slices' lengths. */
  private measured = 0;
  private readonly slices: Float64Array[] = [];

  constructor(
    readonly driver: ProtocolDriver,
    private readonly next: (i: number) => Buffer,
  ) {}

  async run(n: number, measured: boolean): Promise<void> {
    const cpu0 = await cpuMs(this.driver.pid);
    const r = await drive(this.driver, n, this.next, this.sent);
    this.sent += n;
    if (!measured) return;
    this.cpuUsedMs += (await cpuMs(this.driver.pid)) - cpu0;
    this.elapsedMs += r.elapsedMs;
    this.measured += n;
    this.slices.push(r.latenciesMs);
  }

  /** CPU time the process used per measured event, all its threads. */
  cpuPerEventMs(): number {
    return this.cpuUsedMs / this.measured;
  }

  perSecond(): number {
    return (this.measured / this.elapsedMs) * 1000;
  }

  latencies(): Float64Array {
    const all = new Float64Array(this.measured);
    let at = 0;
    for (const s of this.slices) {
      all.set(s, at);
      at += s.length;
    }
    return all;
  }
}

async function run(ctx: BenchContext): Promise<string> {
  const n = ctx.quick ? 10_000 : 100_000;
  const warmup = ctx.quick ? 1_000 : 5_000;
  // Taking turns in slices, so a noisy second (another process, CPU placement) hits every subject alike.
  const rounds = ctx.quick ? 4 : 10;

  ctx.progress('starting the floor (python childutils) and two listeners against stub HAProxy sockets and XML-RPC');
  const floorDriver = await ctx.teardown.own('floor', startFloor(join(ctx.dir, 'floor.log')), (d) => d.stop());
  const floorSup = new Supervisor(ALL_PROGRAMS);
  const floor = new Subject(floorDriver, (i) => mixedEvent(floorSup, i));
  const rig = await ctx.teardown.own('listener', startListenerRig(ctx.dir, 'mixed'), (r) => r.stop());
  const ours = new Subject(rig.driver, (i) => mixedEvent(rig.sup, i));
  const bare = await ctx.teardown.own('listener (unmapped)', startListenerRig(ctx.dir, 'unmapped'), (r) => r.stop());
  const unmapped = new Subject(bare.driver, (i) => unmappedEvent(bare.sup, i));
  const subjects = [floor, ours, unmapped];

  for (const s of subjects) await s.run(warmup, false);
  for (let r = 0; r < rounds; r++) {
    ctx.progress(`round ${r + 1}/${rounds}: ${count(n / rounds)} events to each`);
    for (const s of subjects) await s.run(n / rounds, true);
  }
  const settled = await rig.stubs.quiet(500, 30_000);
  await Promise.all([floorDriver.stop(), rig.stop(), bare.stop()]);
  const log = await scanLog(rig.stderrPath);

  const f = summarize(floor.latencies());
  const o = summarize(ours.latencies());
  const u = summarize(unmapped.latencies());
  const table = renderComparison({
    baselineName: 'python childutils (floor)',
    subjectName: 'supervisor-haproxy',
    figures: [
      { label: 'events/s', baseline: floor.perSecond(), subject: ours.perSecond(), format: rate },
      { label: 'ack p50', baseline: f.p50, subject: o.p50, format: duration },
      { label: 'ack p99', baseline: f.p99, subject: o.p99, format: duration },
      { label: 'ack p99.9', baseline: f.p999, subject: o.p999, format: duration },
      { label: 'ack max', baseline: f.max, subject: o.max, format: duration },
      { label: 'CPU per event', baseline: floor.cpuPerEventMs(), subject: ours.cpuPerEventMs(), format: duration },
    ],
  });
  const wrong = mismatches(settled.states, expectedStates(rig.sup));
  const share = ours.perSecond() / floor.perSecond();
  const lines = [
    paragraphs(`${count(n)} PROCESS_STATE events to each, one in flight, after ${count(warmup)} unmeasured, in ${rounds} turns; ` +
      `half for the ${MAPPED.length} mapped programs (ready on RUNNING), half for ${UNMAPPED.length} unmapped; 4 of the ` +
      `${MAPPED.length + UNMAPPED.length} names non-ASCII (café, wörker, 日本語, 🚀rocket). Ack = from writing the event ` +
      `to reading RESULT 2\\nOK and READY\\n. The listener talks to a stub stats socket and XML-RPC endpoint. ` +
      `Each gets its stdin and stdout as OS pipes, as supervisord gives them. CPU per event: user + system ` +
      `time of the whole process (/proc/<pid>/stat) over the measured events.`),
    table,
    `stub HAProxy saw ${count(settled.setServer)} set server, ${count(settled.showServersState)} show servers state, ` +
      `${count(settled.showInfo)} show info; getAllProcessInfo calls: ${settled.rpcCalls} (1 = the start-up resync only)`,
    `final server states match supervisord's: ${wrong.length === 0 ? 'yes' : `NO (${wrong.join('; ')})`}; ` +
      `listener log: ${count(log.lines)} lines, ${log.warn} warn, ${log.error} error`,
    ...log.samples.map((s) => `  ${s}`),
    `same listener, unmapped events only (protocol path, no HAProxy work): ${rate(unmapped.perSecond())} ` +
      `(${ratio(unmapped.perSecond(), floor.perSecond())} of the floor), ack p50 ${duration(u.p50)}, p99 ${duration(u.p99)}, ` +
      `CPU ${duration(unmapped.cpuPerEventMs())} per event`,
    `the listener's rate: ${ratio(ours.perSecond(), floor.perSecond())} of the floor's; ` +
      `goal (at least ×0.50; supervisord itself dispatches some 8,000–12,000 events/s at most): ${share >= 0.5 ? 'met' : 'MISSED'}`,
  ];
  return lines.join('\n') + '\n';
}

export const protocol: Benchmark = {
  name: 'protocol',
  title: 'Protocol throughput and acknowledgement latency',
  run,
};
