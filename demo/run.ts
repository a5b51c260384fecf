// `npm run demo`: one rolling restart under load with HAProxy health checks alone, one with the listener.

import { requireBinary, type BinaryName } from '../test/support/binaries.js';
import { requireBuiltCli } from '../test/support/paths.js';
import { makeTempDir, removeDir } from '../test/support/tmp.js';
import { PHASE_A, PHASE_B, runPhase, startRollingSite, type PhaseOptions, type PhaseResult } from '../test/support/rolling.js';
import { Teardown } from '../test/support/teardown.js';
import { report } from './report.js';
import { parseArgs, USAGE, type DemoSettings } from './settings.js';
import { formatSeconds, summarize, type BackInService } from './table.js';

const t0 = Date.now();
const progress = (line: string): void => {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
};

class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** The messages of the missing binaries ("… apt-get install -y <pkg>"); [] when all are there. */
function missingBinaries(): string[] {
  const missing: string[] = [];
  for (const name of ['haproxy', 'supervisord', 'supervisorctl'] as const satisfies readonly BinaryName[]) {
    try {
      requireBinary(name);
    } catch (e) {
      missing.push((e as Error).message);
    }
  }
  return missing;
}

const backInService = (p: PhaseResult): BackInService[] => p.restarts.map((r) => ({ program: r.program, ms: r.backAfterMs }));

/** A phase in one progress line: a rate, not a count, since the phases last different times. */
const phaseLine = (p: PhaseResult): string =>
  `${formatSeconds(p.load.durationMs)}, ${Math.round((p.load.requests / p.load.durationMs) * 1000)} requests/s, ${p.load.failed} failed`;

/** Runs both phases and prints the report; `run.dir` is set as soon as the temp dir exists. */
async function demo(s: DemoSettings, teardown: Teardown, run: { dir?: string }): Promise<void> {
  const dir = await makeTempDir('shdemo-');
  run.dir = dir;
  teardown.add('temp dir', async () => {
    if (!s.keep) await removeDir(dir);
  });
  progress(`temp dir ${dir}${s.quick ? ' (quick mode)' : ''}`);

  const stack = await startRollingSite(dir, s, teardown);
  const pids = await Promise.all(stack.servers.map(async (name) => `${name} pid ${await stack.pid(name)}`));
  progress(`haproxy pid ${stack.hap.pid}, frontend ${stack.siteUrl}; supervisord pid ${stack.sup.pid}`);
  progress(`all ${s.instances} instances UP in haproxy and warm: ${pids.join(', ')}`);

  const phase: PhaseOptions = {
    clients: s.clients,
    requestTimeoutMs: s.requestTimeoutMs,
    settleMs: s.settleMs,
    restartTimeoutMs: 60_000,
    // After Ctrl-C the restart in progress may still finish against a stack being stopped: not worth a line.
    onRestart: (r) => {
      if (!teardown.started) progress(`  ${r.program}: pid ${r.oldPid} → pid ${r.newPid}, back in service after ${formatSeconds(r.backAfterMs)}`);
    },
  };

  progress(`phase A, ${PHASE_A}: rolling restart under load (${s.clients} clients on /site)`);
  const a = await runPhase(stack, phase, teardown);
  progress(`phase A done: ${phaseLine(a)}`);

  await stack.startListener({ timeoutMs: 30_000 });
  const listenerPid = await stack.pid('listener');
  progress(`listener pid ${listenerPid} started, resynced, through supervisord's backlog; all servers UP`);
  progress(`phase B, ${PHASE_B}: the same rolling restart under the same load`);
  const b = await runPhase(stack, phase, teardown);
  progress(`phase B done: ${phaseLine(b)}`);

  const rowA = summarize(PHASE_A, a.load, backInService(a), s);
  const rowB = summarize(PHASE_B, b.load, backInService(b), s);
  process.stdout.write(
    `\n${report(
      rowA,
      rowB,
      [
        [PHASE_A, a.load.failures],
        [PHASE_B, b.load.failures],
      ],
      s,
    )}`,
  );
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`demo: ${parsed.message}\n${USAGE}`);
    return 2;
  }
  const s = parsed.settings;
  const missing = missingBinaries();
  if (missing.length > 0) {
    for (const m of missing) process.stderr.write(`demo: ${m}\n`);
    const pkgs = [...new Set(missing.map((m) => /apt-get install -y (\S+)$/.exec(m)?.[1]).filter((p) => p !== undefined))];
    process.stderr.write(`demo: install what is missing first: apt-get install -y ${pkgs.join(' ')}\n`);
    return 1;
  }
  try {
    requireBuiltCli();
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n`);
    return 1;
  }

  const teardown = new Teardown((l) => progress(l));
  const run: { dir?: string } = {};
  let signalled = false;
  const interrupted = new Promise<never>((_, reject) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        progress(`${signal}: still tearing down, please wait`);
        return;
      }
      signalled = true;
      reject(new Interrupted(signal));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const work = demo(s, teardown, run);
  work.catch(() => undefined); // after an interruption it may fail against a stack being torn down

  let code = 0;
  try {
    await Promise.race([work, interrupted]);
  } catch (e) {
    if (e instanceof Interrupted) {
      progress(`${e.signal}: stopping supervisord, its programs and haproxy`);
      code = e.signal === 'SIGINT' ? 130 : 143;
    } else {
      progress(`demo failed: ${(e as Error).message}`);
      code = 1;
    }
  }
  await teardown.run();
  if (s.keep && run.dir !== undefined) {
    process.stdout.write(
      `Logs kept in ${run.dir}: haproxy/haproxy.cfg and haproxy.log; supervisor/supervisord.log, listener/listener.ini, listener/listener.log ` +
        `(the listener's decisions), app1.err… (each instance).\n`,
    );
  } else if (code === 1) progress('run with --keep to keep every config and log');
  progress(code === 0 ? `done in ${((Date.now() - t0) / 1000).toFixed(1)} s; everything stopped` : 'everything stopped');
  return code;
}

process.exit(await main());
