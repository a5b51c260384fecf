// Benchmark: events/s and acknowledgement latency of the listener against supervisor's own Python helper (the floor).

import { join } from 'node:path';
import { renderComparison } from './compare.js';
import { cpuMs } from './cpu.js';
import type { Benchmark, BenchContext } from './context.js';
import { drive, type ProtocolDriver } from './driver.js';
import { count, duration, rate, ratio } from './format.js';
import { Supervisor } from './frames.js';
import { startFloor, startNodeBlocking, startNodeEventLoop, syscallMicros } from './floors.js';
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
import { paragraphs } from './text.js';

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

  ctx.progress('starting the floor (python childutils), Node alone two ways and four listeners against stub HAProxy sockets and XML-RPC');
  /** A subject that is not a listener rig: it gets the mix from a supervisord of its own. */
  const mixed = (driver: ProtocolDriver): Subject => {
    const sup = new Supervisor(ALL_PROGRAMS);
    return new Subject(driver, (i) => mixedEvent(sup, i));
  };
  const floorDriver = await ctx.teardown.own('floor', startFloor(join(ctx.dir, 'floor.log')), (d) => d.stop());
  const floor = mixed(floorDriver);
  const rig = await ctx.teardown.own('listener', startListenerRig(ctx.dir, 'mixed'), (r) => r.stop());
  const ours = new Subject(rig.driver, (i) => mixedEvent(rig.sup, i));
  const bare = await ctx.teardown.own('listener (unmapped)', startListenerRig(ctx.dir, 'unmapped'), (r) => r.stop());
  const unmapped = new Subject(bare.driver, (i) => unmappedEvent(bare.sup, i));
  const loopDriver = await ctx.teardown.own('node, event loop', startNodeEventLoop(join(ctx.dir, 'node-loop.log')), (d) => d.stop());
  const nodeLoop = mixed(loopDriver);
  const blockingDriver = await ctx.teardown.own('node, blocking', startNodeBlocking(join(ctx.dir, 'node-blocking.log')), (d) => d.stop());
  const nodeBlocking = mixed(blockingDriver);
  // Where the rest goes: the same mix without HAProxy traffic, and without info lines.
  const dry = await ctx.teardown.own('listener (dry run)', startListenerRig(ctx.dir, 'dry', ['--dry-run']), (r) => r.stop());
  const dryRun = new Subject(dry.driver, (i) => mixedEvent(dry.sup, i));
  const quiet = await ctx.teardown.own('listener (warn)', startListenerRig(ctx.dir, 'warn', ['--log-level', 'warn']), (r) => r.stop());
  const warnOnly = new Subject(quiet.driver, (i) => mixedEvent(quiet.sup, i));
  const subjects = [floor, ours, unmapped, nodeLoop, nodeBlocking, dryRun, warnOnly];

  for (const s of subjects) await s.run(warmup, false);
  for (let r = 0; r < rounds; r++) {
    ctx.progress(`round ${r + 1}/${rounds}: ${count(n / rounds)} events to each`);
    for (const s of subjects) await s.run(n / rounds, true);
  }
  const settled = await rig.stubs.quiet(500, 30_000);
  await Promise.all([floorDriver.stop(), rig.stop(), bare.stop(), loopDriver.stop(), blockingDriver.stop(), dry.stop(), quiet.stop()]);
  const syscall = await syscallMicros();
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
  const goal = ours.perSecond() >= floor.perSecond();
  const nodeFloors: [string, Subject][] = [
    ["acknowledging only through the listener's own stdin/stdout code and decoder (event loop)", nodeLoop],
    ['acknowledging only with blocking read(2), no event loop (which a listener cannot do)', nodeBlocking],
  ];
  const variants: [string, Subject][] = [
    ['--dry-run (the same mix, no HAProxy traffic)', dryRun],
    ['--log-level warn (the same mix, no info lines)', warnOnly],
  ];
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
    ...nodeFloors.map(
      ([what, s]) =>
        `node alone, ${what}: ${rate(s.perSecond())} (${ratio(s.perSecond(), floor.perSecond())} of the floor), ` +
        `ack p50 ${duration(summarize(s.latencies()).p50)}, CPU ${duration(s.cpuPerEventMs())} per event`,
    ),
    ...variants.map(
      ([what, s]) =>
        `same listener, ${what}: ${rate(s.perSecond())} (${ratio(s.perSecond(), floor.perSecond())} of the floor), ` +
        `CPU ${duration(s.cpuPerEventMs())} per event`,
    ),
    `one system call (getppid from Python) costs ${syscall.toFixed(1)} µs on this machine`,
    `goal (at least the floor's rate): ${goal ? 'met' : 'MISSED'}`,
  ];
  return lines.join('\n') + '\n';
}

export const protocol: Benchmark = {
  name: 'protocol',
  title: 'Protocol throughput and acknowledgement latency',
  run,
};
