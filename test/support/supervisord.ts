// A real supervisord for integration tests: its own conf, socket and logs in a temp dir; supervisorctl wrapper.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { descendants, reapPids, runCaptured, spawnLogged, terminate, waitUntilReady } from './process.js';

export interface SupervisordOptions {
  readonly dir: string;
  /** Raw conf sections ([program:x], [group:g], [eventlistener:l], …) appended to the generated conf. */
  readonly programs: string;
  /** Extra environment for supervisord, inherited by its programs. */
  readonly env?: Record<string, string>;
  /** HTTP Basic credentials required on the socket ([unix_http_server]); supervisorctl gets them too. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Extra lines for [unix_http_server], e.g. `chown = root:grp` and `chmod = 0770`. */
  readonly socketLines?: readonly string[];
}

export interface CtlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SupervisordInstance {
  readonly pid: number;
  readonly dir: string;
  readonly confPath: string;
  /** `unix://<dir>/supervisor.sock`, the form of $SUPERVISOR_SERVER_URL. */
  readonly url: string;
  readonly logPath: string;
  /** `supervisorctl -c <conf> ...args`; never throws on a non-zero exit. */
  ctl(...args: string[]): Promise<CtlResult>;
  /** SIGTERM (supervisord stops its programs), SIGKILL after 15 s; then no program of it is left. */
  stop(): Promise<void>;
  /** Rewrites the conf with new program sections, for `reread` / `update` tests. */
  writeConf(programs: string): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const CTL_TIMEOUT_MS = 60_000;

function renderConf(dir: string, programs: string, auth: SupervisordOptions['auth'], socketLines: readonly string[] = []): string {
  const sock = join(dir, 'supervisor.sock');
  const creds = auth === undefined ? '' : `username=${auth.username}\npassword=${auth.password}\n`;
  return `[unix_http_server]
file=${sock}
${socketLines.map((l) => `${l}\n`).join('')}${creds}
[supervisord]
nodaemon=true
logfile=${join(dir, 'supervisord.log')}
loglevel=debug
pidfile=${join(dir, 'supervisord.pid')}
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${sock}
${creds}
${programs}
`;
}

/** Starts `supervisord -c <dir>/supervisord.conf` in the foreground and waits until supervisorctl gets an answer. */
export async function startSupervisord(opts: SupervisordOptions): Promise<SupervisordInstance> {
  const bin = requireBinary('supervisord');
  const ctlBin = requireBinary('supervisorctl');
  await mkdir(opts.dir, { recursive: true });
  const confPath = join(opts.dir, 'supervisord.conf');
  // With nodaemon, supervisord copies its log to stdout; config errors go to stderr. Both land here.
  const outPath = join(opts.dir, 'supervisord.out');
  const writeConf = (programs: string): Promise<void> => writeFile(confPath, renderConf(opts.dir, programs, opts.auth, opts.socketLines));
  await writeConf(opts.programs);

  const ctl = (...args: string[]): Promise<CtlResult> => runCaptured(ctlBin, ['-c', confPath, ...args], { timeoutMs: CTL_TIMEOUT_MS });

  const proc = await spawnLogged(bin, ['-c', confPath], { logPath: outPath, ...(opts.env ? { env: opts.env } : {}) });
  await waitUntilReady(
    proc,
    // Bare `status` exits 0 (all running) or 3 (some not running) once supervisord answers;
    // 4 is also what it gives while the socket is missing or refuses (observed with 4.2.5).
    async () => {
      const { code } = await ctl('status');
      return code === 0 || code === 3;
    },
    { name: 'supervisord', logPath: outPath, timeoutMs: START_TIMEOUT_MS },
  );

  return {
    pid: proc.pid,
    dir: opts.dir,
    confPath,
    url: `unix://${join(opts.dir, 'supervisor.sock')}`,
    logPath: join(opts.dir, 'supervisord.log'),
    ctl,
    async stop() {
      // Known before SIGTERM: if supervisord has to be SIGKILLed, its programs are orphaned (reference §2).
      const programs = proc.exit === null ? descendants(proc.pid) : [];
      await terminate(proc, 15_000);
      await reapPids(programs, 5000);
    },
    writeConf,
  };
}
