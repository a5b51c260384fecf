// `npm run bench [-- NAME…] [--quick]`: runs the benchmarks and prints their figures; no assertions.

import { cpus } from 'node:os';
import { Teardown } from '../test/support/teardown.js';
import { requireBinary } from '../test/support/binaries.js';
import { requireBuiltCli } from '../test/support/paths.js';
import { makeTempDir, removeDir } from '../test/support/tmp.js';
import { parseBenchArgs, USAGE } from './args.js';
import type { Benchmark } from './context.js';
import { agentPull } from './agent.js';
import { chaos } from './chaos.js';
import { memory } from './memory.js';
import { protocol } from './protocol.js';
import { rolling } from './rolling.js';
import { softReloads } from './soft-reloads.js';
import { startsecs } from './startsecs.js';
import { stopToMaint } from './stop-maint.js';

const BENCHMARKS: readonly Benchmark[] = [rolling, protocol, memory, stopToMaint, softReloads, chaos, startsecs, agentPull];

const t0 = Date.now();
const elapsed = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const progress = (line: string): void => {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
};

async function runOne(b: Benchmark, quick: boolean, keep: boolean, seed: number | null, stopping: Promise<never>): Promise<boolean> {
  const started = Date.now();
  const dir = await makeTempDir(`shbench-${b.name}-`);
  const teardown = new Teardown(progress);
  teardown.add('temp dir', async () => {
    if (keep) progress(`${b.name}: kept ${dir}`);
    else await removeDir(dir);
  });
  progress(`${b.name}: ${b.title}${quick ? ' (quick)' : ''}`);
  let ok = true;
  try {
    const work = b.run({ quick, seed, dir, teardown, progress: (l) => progress(`${b.name}: ${l}`) });
    work.catch(() => undefined); // after an interruption it may fail against things being torn down
    const report = await Promise.race([work, stopping]);
    process.stdout.write(`== ${b.name}: ${b.title}${quick ? ' (quick)' : ''}\n${report}(${b.name} took ${elapsed(started)})\n\n`);
  } catch (e) {
    ok = false;
    process.stdout.write(`== ${b.name}: ${b.title}\nFAILED: ${(e as Error).message}\n\n`);
  } finally {
    await teardown.run();
  }
  return ok;
}

async function main(): Promise<number> {
  const parsed = parseBenchArgs(process.argv.slice(2), process.env, BENCHMARKS.map((b) => b.name));
  const usage = USAGE.replace('%NAMES%', BENCHMARKS.map((b) => b.name).join(', '));
  if (parsed.kind === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`bench: ${parsed.message}\n${usage}`);
    return 2;
  }
  try {
    requireBuiltCli();
    for (const bin of ['haproxy', 'supervisord', 'supervisorctl'] as const) requireBinary(bin);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 1;
  }
  const { names, quick, keep, seed } = parsed.args;
  let signalled = false;
  const stopping = new Promise<never>((_, reject) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!signalled) reject(new Error(`interrupted by ${signal}`));
      signalled = true;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  stopping.catch(() => undefined);

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  process.stdout.write(
    `supervisor-haproxy benchmarks${quick ? ' (quick)' : ''}: node ${process.version}, ${cpus().length} × ${cpu}\n` +
      `Machines are noisy: read the ratios against each baseline measured in the same run, not the absolute figures.\n\n`,
  );
  let failed = 0;
  for (const b of BENCHMARKS.filter((x) => names.includes(x.name))) {
    if (signalled) break;
    if (!(await runOne(b, quick, keep, seed, stopping))) failed++;
  }
  const outcome = signalled ? ', interrupted' : failed > 0 ? `, ${failed} failed to run` : '';
  process.stdout.write(`${names.length} benchmark(s) in ${elapsed(t0)}${outcome}\n`);
  return signalled ? 130 : failed > 0 ? 1 : 0;
}

process.exit(await main());
