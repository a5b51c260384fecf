// Benchmark: the listener's resident memory after 1M events and 10k warm-up cycles, and whether its live heap grows.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderComparison, renderRows } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { drive } from './driver.js';
import { count, megabytes } from './format.js';
import { scanLog } from './logscan.js';
import { BACKEND, mixedEvent, startListenerRig, WARM, type ListenerRig, type RigOptions } from './rig.js';
import { bareNodeRss, steadyRss, type Rss } from './rss.js';
import { paragraphs } from '../test/support/figures.js';

/** The bounds a sysadmin can rely on: resident memory, whatever has happened, and a live heap that does not grow. */
const RSS_LIMIT = 80e6;
/** Live heap after a full GC may differ by this much between two points without counting as growth. */
const HEAP_NOISE = 0.5e6;
/**
 * How long the plain listener is then left quiet, read every QUIET_STEP_MS: V8 gives back the young
 * generation it grew under a flood only after the process has been quiet a while (about a minute, measured),
 * so this is what `ps` shows a sysadmin once a burst is over.
 */
const QUIET_MS = 120_000;
const QUIET_STEP_MS = 10_000;

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

interface Sizes {
  readonly small: number;
  /** By here V8 has compiled the hot paths: live heap growth is measured from this point on too. */
  readonly mid: number;
  readonly large: number;
  readonly cyclesMark: number;
  readonly cycles: number;
}

/**
 * Takes one listener through the same course: start-up, `small`, `mid` then `large` events of the protocol mix,
 * `cyclesMark` then `cycles` warm-up cycles; `measure` is called at each point, once the listener is quiet.
 */
async function course<T>(
  ctx: BenchContext,
  tag: string,
  sizes: Sizes,
  options: RigOptions,
  measure: (rig: ListenerRig) => Promise<T>,
  quietMs = 0,
): Promise<{ points: T[]; quiet: T[]; rig: ListenerRig; probes: number }> {
  const rig = await ctx.teardown.own(`listener (${tag})`, startListenerRig(ctx.dir, tag, options), (r) => r.stop());
  const points: T[] = [];
  const at = async (): Promise<void> => {
    await rig.stubs.quiet(500, 60_000);
    points.push(await measure(rig));
  };
  await at();
  let sent = 0;
  for (const upTo of [sizes.small, sizes.mid, sizes.large]) {
    ctx.progress(`${tag}: events ${count(sent)} → ${count(upTo)}`);
    await drive(rig.driver, upTo - sent, (i) => mixedEvent(rig.sup, i), sent);
    sent = upTo;
    await at();
  }
  ctx.progress(`${tag}: warm-up cycles 0 → ${count(sizes.cyclesMark)}`);
  await warmupCycles(rig, sizes.cyclesMark);
  await at();
  ctx.progress(`${tag}: warm-up cycles ${count(sizes.cyclesMark)} → ${count(sizes.cycles)}`);
  await warmupCycles(rig, sizes.cycles - sizes.cyclesMark);
  await at();
  const probes = (await rig.stubs.counts()).warmupRequests;
  // Then nothing happens but the listener's heartbeat: one reading per step.
  const quiet: T[] = [];
  for (let waited = QUIET_STEP_MS; waited <= quietMs; waited += QUIET_STEP_MS) {
    ctx.progress(`${tag}: quiet ${waited / 1000} s of ${quietMs / 1000} s`);
    await new Promise((r) => setTimeout(r, QUIET_STEP_MS));
    quiet.push(await measure(rig));
  }
  await rig.stop();
  return { points, quiet, rig, probes };
}

/** The live heap after two full GCs, read through bench/heap-preload.ts: SIGUSR2, then a line in `file`. */
async function liveHeap(rig: ListenerRig, file: string): Promise<number> {
  const lines = async (): Promise<string[]> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  const before = (await lines()).length;
  process.kill(rig.driver.pid, 'SIGUSR2');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = await lines();
    if (now.length > before) return Number(now[now.length - 1]);
    if (Date.now() > deadline) throw new Error(`no live heap figure in ${file} after SIGUSR2`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(ctx: BenchContext): Promise<string> {
  const sizes: Sizes = ctx.quick
    ? { small: 10_000, mid: 50_000, large: 100_000, cyclesMark: 100, cycles: 1_000 }
    : { small: 10_000, mid: 100_000, large: 1_000_000, cyclesMark: 1_000, cycles: 10_000 };
  const labels = [
    'after start-up and resync',
    `after ${count(sizes.small)} events`,
    `after ${count(sizes.mid)} events`,
    `after ${count(sizes.large)} events`,
    `after ${count(sizes.cyclesMark)} warm-up cycles`,
    `after ${count(sizes.cycles)} warm-up cycles`,
  ];

  ctx.progress('baseline: a bare `node -e` idling');
  const bare = await bareNodeRss();

  // 1. Resident memory, the listener run as installed: plain `node dist/cli.js`, no flags, no GC forced.
  const plain = await course(ctx, 'rss', sizes, {}, (rig) => steadyRss(rig.driver.pid), QUIET_MS);
  const rss = plain.points;
  const log = await scanLog(plain.rig.stderrPath);

  // 2. Live heap: a second listener with the bench-only preload, which collects and reports on a signal.
  const heapFile = join(ctx.dir, 'heap.txt');
  const preload = new URL('./heap-preload.js', import.meta.url).pathname;
  const heap = (
    await course(ctx, 'heap', sizes, { nodeArgs: ['--import', preload], env: { BENCH_HEAP_FILE: heapFile } }, (rig) =>
      liveHeap(rig, heapFile),
    )
  ).points;

  const mb = (b: number): string => megabytes(b);
  const afterQuiet = plain.quiet[plain.quiet.length - 1] as Rss;
  const belowAt = plain.quiet.findIndex((r) => r.rss < RSS_LIMIT);
  const quietLine =
    `quiet after the last cycle, every ${QUIET_STEP_MS / 1000} s: ${plain.quiet.map((r) => mb(r.rss)).join(', ')}` +
    (belowAt < 0 ? '' : `; under ${mb(RSS_LIMIT)} from ${((belowAt + 1) * QUIET_STEP_MS) / 1000} s`);
  const table = renderComparison({
    baselineName: 'bare node -e',
    subjectName: 'supervisor-haproxy',
    figures: [
      ...labels.map((label, i) => ({ label, baseline: bare.rss, subject: (rss[i] as Rss).rss, format: mb })),
      { label: `then ${QUIET_MS / 1000} s quiet`, baseline: bare.rss, subject: afterQuiet.rss, format: mb },
      { label: 'peak (VmHWM)', baseline: bare.hwm, subject: afterQuiet.hwm, format: mb },
    ],
  });
  const heapTable = renderRows(
    ['live heap after a full GC', 'heapUsed'],
    labels.map((label, i) => [label, mb(heap[i] as number)]),
  );
  const eventsGrowth = (heap[3] as number) - (heap[1] as number);
  const laterGrowth = (heap[3] as number) - (heap[2] as number);
  const cyclesGrowth = (heap[5] as number) - (heap[4] as number);
  const flat = (b: number): string => (b <= HEAP_NOISE ? `flat (${megabytes(b, true)})` : `GROWS (${megabytes(b, true)})`);
  const atLarge = (rss[3] as Rss).rss;
  const atCycles = (rss[5] as Rss).rss;
  const lines = [
    paragraphs(
      `The listener as installed (\`node dist/cli.js\`, no Node flags). VmRSS from /proc/<pid>/status, median of 5 ` +
        `readings once the listener has been quiet towards HAProxy for 0.5 s; no GC forced. Events: the protocol ` +
        `benchmark's mix (half mapped, ready on RUNNING). A warm-up cycle: STOPPING, STOPPED, STARTING, RUNNING of a ` +
        `program with \`warmup = /ok\`, the next cycle only after its \`set server … state ready\` ` +
        `(${count(plain.probes)} probes answered for ${count(sizes.cycles)} cycles).`,
    ),
    table,
    `listener log: ${count(log.lines)} lines, ${log.warn} warn, ${log.error} error`,
    ...log.samples.map((s) => `  ${s}`),
    quietLine,
    `goal (RSS under ${megabytes(RSS_LIMIT)}) after ${count(sizes.large)} events: ${atLarge < RSS_LIMIT ? 'met' : 'MISSED'}; ` +
      `after ${count(sizes.cycles)} warm-up cycles: ${atCycles < RSS_LIMIT ? 'met' : 'MISSED'} right after, ` +
      `${afterQuiet.rss < RSS_LIMIT ? 'met' : 'MISSED'} after ${QUIET_MS / 1000} s quiet`,
    '',
    paragraphs(
      `A second listener, the same course, with a bench-only preload (bench/heap-preload.ts) that runs two full ` +
        `GCs on SIGUSR2 and reports V8's heapUsed: what is still alive, garbage excluded.`,
    ),
    heapTable,
    `live heap from ${count(sizes.small)} to ${count(sizes.large)} events: ${flat(eventsGrowth)}, ` +
      `from ${count(sizes.mid)}: ${flat(laterGrowth)}; ` +
      `from ${count(sizes.cyclesMark)} to ${count(sizes.cycles)} warm-up cycles: ${flat(cyclesGrowth)} ` +
      `(goal: no growth beyond ${megabytes(HEAP_NOISE)})`,
  ];
  return lines.join('\n') + '\n';
}

export const memory: Benchmark = {
  name: 'memory',
  title: 'Memory over time',
  run,
};
