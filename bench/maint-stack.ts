// The stop-to-MAINT benchmark's site: haproxy with health checks, supervisord with startsecs=0 programs, the listener.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Teardown } from '../demo/teardown.js';
import { startHaproxy, statusFromShowStat, statsCommand, type HaproxyInstance } from '../test/support/haproxy.js';
import { ROOT, slowAppPath } from '../test/support/paths.js';
import { freePort, withFreshPorts } from '../test/support/ports.js';
import { appsListening, listenerProgram, waitForListenerSettled, writeListenerConfig } from '../test/support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../test/support/supervisord.js';
import { waitFor } from '../test/support/wait.js';

export const BACKEND = 'site';

/** The part of dist/supervisor/rpc.js's SupervisorRpc used here (dist ships no .d.ts). */
export interface Rpc {
  stopProcess(namespec: string, wait?: boolean): Promise<boolean>;
  startProcess(namespec: string, wait?: boolean): Promise<boolean>;
}

type RpcClass = new (opts: { url: string; username: string | null; password: string | null; timeoutMs: number }) => Rpc;

/** The package's own XML-RPC client, from the build: the benchmark drives supervisord as the product does. */
async function loadRpc(): Promise<RpcClass> {
  const mod = (await import(pathToFileURL(join(ROOT, 'dist', 'supervisor', 'rpc.js')).href)) as { SupervisorRpc: RpcClass };
  return mod.SupervisorRpc;
}

export interface MaintStack {
  readonly hap: HaproxyInstance;
  readonly sup: SupervisordInstance;
  readonly rpc: Rpc;
  readonly programs: readonly string[];
  /** `show stat` status of one server (`UP`, `DOWN`, `MAINT`…), one CLI connection. */
  status(program: string): Promise<string>;
  startListener(timeoutMs: number): Promise<void>;
}

export interface MaintStackOptions {
  readonly dir: string;
  readonly programs: number;
  /** On each server line, after `check`. */
  readonly check: string;
}

function listenerIni(socket: string, programs: readonly string[]): string {
  const lines = ['[haproxy]', `socket = ${socket}`, 'timeout = 2s', 'heartbeat = 2s', '', '[warmup]', 'interval = 20ms', 'timeout = 1s', 'deadline = 30s', ''];
  for (const p of programs) lines.push(`[program:${p}]`, `servers = ${BACKEND}/${p}`, 'warmup = /site', '');
  return lines.join('\n');
}

/** A slow-app that is warm at once and RUNNING as soon as spawned (startsecs = 0); stopped only when told. */
function program(dir: string, name: string, port: number): string {
  return [
    `[program:${name}]`,
    `command = ${process.execPath} ${slowAppPath()}`,
    `environment = PORT="${port}",LISTEN_DELAY_MS="0",COLD_MS="0",WARM_AFTER="0"`,
    'startsecs = 0',
    'stopwaitsecs = 5',
    'autorestart = false',
    `stdout_logfile = ${join(dir, `${name}.out`)}`,
    `stderr_logfile = ${join(dir, `${name}.err`)}`,
    '',
  ].join('\n');
}

/** Starts it; a start that lost a port to another process before binding it is made again with fresh ports. */
export function startMaintStack(opts: MaintStackOptions, teardown: Teardown): Promise<MaintStack> {
  return withFreshPorts(
    (attempt) => startOnce(attempt === 1 ? opts : { ...opts, dir: join(opts.dir, `attempt-${attempt}`) }, teardown),
    async () => undefined, // startOnce stops what it started before it throws
  );
}

async function startOnce(opts: MaintStackOptions, teardown: Teardown): Promise<MaintStack> {
  const supDir = join(opts.dir, 'supervisor');
  const names = Array.from({ length: opts.programs }, (_, i) => `svc${i + 1}`);
  const ports = await Promise.all(names.map(() => freePort()));
  const hap = await teardown.own(
    'haproxy',
    startHaproxy({
      dir: join(opts.dir, 'haproxy'),
      backends: [
        {
          name: BACKEND,
          options: ['option httpchk GET /health'],
          servers: names.map((name, i) => ({ name, port: ports[i] as number, check: true, options: opts.check })),
        },
      ],
    }),
    (h) => h.stop(),
  );
  const socket = hap.sockets[0] as string;
  await mkdir(supDir, { recursive: true });
  const configPath = await writeListenerConfig(supDir, listenerIni(socket, names));
  const sections = [
    ...names.map((n, i) => program(supDir, n, ports[i] as number)),
    listenerProgram(supDir, configPath, { extra: ['autostart = false'] }),
  ].join('\n');
  const sup = await teardown.own('supervisord', startSupervisord({ dir: supDir, programs: sections }), (s) => s.stop()).catch(
    async (e: unknown) => {
      await hap.stop();
      throw e;
    },
  );
  await appsListening(supDir, names, 60_000).catch(async (e: unknown) => {
    await sup.stop();
    await hap.stop();
    throw e;
  });
  const Rpc = await loadRpc();
  const rpc = new Rpc({ url: sup.url, username: null, password: null, timeoutMs: 30_000 });
  const listenerLog = join(supDir, 'listener.log');

  const status = async (name: string): Promise<string> =>
    statusFromShowStat(await statsCommand(socket, `show stat ${BACKEND} 4 -1`), name) ?? '?';
  const allUp = async (): Promise<boolean> => (await Promise.all(names.map(status))).every((s) => s === 'UP');
  await waitFor(allUp, { timeoutMs: 30_000, intervalMs: 50, what: `every server of ${BACKEND} UP` });

  return {
    hap,
    sup,
    rpc,
    programs: names,
    status,
    async startListener(timeoutMs) {
      const res = await sup.ctl('start', 'listener');
      if (res.code !== 0) throw new Error(`supervisorctl start listener: ${(res.stdout + res.stderr).trim()}`);
      // Let supervisord replay the events it buffered for the stopped listener's pool.
      await waitForListenerSettled(listenerLog, allUp, { quietMs: 1000, timeoutMs });
    },
  };
}
