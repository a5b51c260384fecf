// A throwaway local site: haproxy in front of slow-starting app instances under supervisord, plus the listener.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHaproxy, statusFromShowStat, type HaproxyInstance } from '../test/support/haproxy.js';
import { freePort, withFreshPorts } from '../test/support/ports.js';
import { appProgram, appsListening, listenerProgram, waitForListenerSettled, writeListenerConfig } from '../test/support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../test/support/supervisord.js';
import { waitFor } from '../test/support/wait.js';
import { Teardown } from './teardown.js';

export interface AppSettings {
  /** The app opens its port this long after it starts (a Zope boot). */
  readonly listenDelayMs: number;
  /** Each site request takes this long while the app is cold. */
  readonly coldMs: number;
  /** Site requests answered before the app is warm. */
  readonly warmAfter: number;
}

export interface StackOptions {
  readonly dir: string;
  /** How many app instances (servers app1…appN of backend `site`). */
  readonly instances: number;
  readonly app: AppSettings;
  /** HAProxy health-check parameters on each server line. */
  readonly check: string;
  /** Timeout of one warm-up request: a site page slower than this is not warm yet. */
  /** `[warmup] max_time`: an answer slower than this is cold (warm means fast). */
  readonly warmupMaxTime: string;
  /** Start the listener with supervisord (false: `startListener()` later). */
  readonly listenerAutostart: boolean;
}

export interface Server {
  /** supervisord program name and HAProxy server name alike. */
  readonly name: string;
  readonly port: number;
}

export interface Stack {
  readonly dir: string;
  readonly hap: HaproxyInstance;
  readonly sup: SupervisordInstance;
  readonly backend: string;
  readonly servers: readonly Server[];
  /** The frontend's site URL, where visitors (the load) go. */
  readonly siteUrl: string;
  readonly listenerLogPath: string;
  /** The `status` column of `show stat` for every server (`UP`, `MAINT`, `DOWN 1/2`…), one CLI connection. */
  statuses(): Promise<Record<string, string>>;
  /** Pid supervisord reports for a program (0 when it is not running). */
  pid(program: string): Promise<number>;
  /** Resolves once every server shows exactly `UP`. */
  waitAllUp(timeoutMs: number): Promise<void>;
  /**
   * `supervisorctl start listener`; resolves with its pid once it has resynced with supervisord, worked through
   * the events supervisord buffered for it, and every server is UP.
   */
  startListener(timeoutMs: number): Promise<number>;
  /** Stops supervisord (and with it every program) and haproxy; idempotent. */
  stop(): Promise<void>;
}

export const BACKEND = 'site';
export const SITE_PATH = '/site';
const LISTENER = 'listener';
const LISTENER_QUIET_MS = 1500;

function listenerIni(socket: string, servers: readonly Server[], warmupMaxTime: string): string {
  // [supervisor] url is left out: supervisord gives its listener $SUPERVISOR_SERVER_URL.
  const lines = ['[haproxy]', `socket = ${socket}`, 'timeout = 2s', 'heartbeat = 1s', '', '[warmup]', 'interval = 250ms', 'timeout = 10s', `max_time = ${warmupMaxTime}`, 'deadline = 60s', ''];
  for (const s of servers) lines.push(`[program:${s.name}]`, `servers = ${BACKEND}/${s.name}`, `warmup = ${SITE_PATH}`, '');
  return lines.join('\n');
}

/**
 * Starts haproxy (frontend on a free loopback port, backend `site` with health checks) and supervisord
 * running the apps and the listener, each registered with `teardown` as soon as it runs. A start that lost
 * a port to another process before binding it is stopped and made again with fresh ports, in a subdirectory.
 */
export function startStack(opts: StackOptions, teardown: Teardown): Promise<Stack> {
  return withFreshPorts(
    (attempt) => startOnce(attempt === 1 ? opts : { ...opts, dir: join(opts.dir, `attempt-${attempt}`) }, teardown),
    async () => undefined, // startOnce stops what it started before it throws
  );
}

async function startOnce(opts: StackOptions, teardown: Teardown): Promise<Stack> {
  const supDir = join(opts.dir, 'supervisor');
  await mkdir(supDir, { recursive: true });
  const servers: Server[] = [];
  for (let i = 1; i <= opts.instances; i++) servers.push({ name: `app${i}`, port: await freePort() });
  const frontendPort = await freePort();

  const hap = await teardown.own(
    'haproxy',
    startHaproxy({
      dir: join(opts.dir, 'haproxy'),
      frontends: [{ name: 'www', port: frontendPort, backend: BACKEND }],
      backends: [
        {
          name: BACKEND,
          // Like a real site: /health passes as soon as the port answers, long before the site path is fast.
          options: ['option httpchk GET /health'],
          servers: servers.map((s) => ({ name: s.name, port: s.port, check: true, options: opts.check })),
        },
      ],
    }),
    (h) => h.stop(),
  );

  const socket = hap.sockets[0] as string;
  const configPath = await writeListenerConfig(supDir, listenerIni(socket, servers, opts.warmupMaxTime));
  const programs = [
    ...servers.map((s) =>
      appProgram(supDir, s.name, {
        PORT: s.port,
        LISTEN_DELAY_MS: opts.app.listenDelayMs,
        COLD_MS: opts.app.coldMs,
        WARM_AFTER: opts.app.warmAfter,
        SITE_PATH,
      }),
    ),
    listenerProgram(supDir, configPath, { extra: [`autostart = ${String(opts.listenerAutostart)}`] }),
  ].join('\n');
  const sup = await teardown.own('supervisord', startSupervisord({ dir: supDir, programs }), (s) => s.stop()).catch(async (e: unknown) => {
    await hap.stop();
    throw e;
  });
  // The apps bind ports picked above; one that lost its port makes this start fail (stops are idempotent).
  await appsListening(
    supDir,
    servers.map((s) => s.name),
    opts.app.listenDelayMs + 30_000,
  ).catch(async (e: unknown) => {
    await sup.stop();
    await hap.stop();
    throw e;
  });

  const listenerLogPath = join(supDir, 'listener.log');
  const statuses = async (): Promise<Record<string, string>> => {
    const csv = await hap.cmd(`show stat ${BACKEND} 4 -1`);
    return Object.fromEntries(servers.map((s) => [s.name, statusFromShowStat(csv, s.name) ?? '?']));
  };
  const allUp = async (): Promise<boolean> => Object.values(await statuses()).every((s) => s === 'UP');
  const pid = async (program: string): Promise<number> => {
    const { stdout } = await sup.ctl('pid', program);
    const n = Number(stdout.trim());
    return Number.isInteger(n) ? n : 0;
  };
  let stopped: Promise<void> | null = null;

  return {
    dir: opts.dir,
    hap,
    sup,
    backend: BACKEND,
    servers,
    siteUrl: `http://127.0.0.1:${frontendPort}${SITE_PATH}`,
    listenerLogPath,
    statuses,
    pid,
    async waitAllUp(timeoutMs) {
      await waitFor(allUp, {
        timeoutMs,
        intervalMs: 50,
        what: `every server of ${BACKEND} UP`,
      });
    },
    async startListener(timeoutMs) {
      const res = await sup.ctl('start', LISTENER);
      if (res.code !== 0) throw new Error(`supervisorctl start ${LISTENER}: ${(res.stdout + res.stderr).trim()}`);
      await waitForListenerSettled(listenerLogPath, allUp, { quietMs: LISTENER_QUIET_MS, timeoutMs });
      return pid(LISTENER);
    },
    stop() {
      stopped ??= (async () => {
        await sup.stop(); // first: supervisord stops its programs, the listener among them
        await hap.stop();
      })();
      return stopped;
    },
  };
}

/** Sends each instance enough concurrent site requests, straight to its port, to leave it warm. */
export async function warmInstances(stack: Stack, warmAfter: number, timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    stack.servers.flatMap((s) =>
      Array.from({ length: warmAfter }, async () => {
        const res = await fetch(`http://127.0.0.1:${s.port}${SITE_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`warming ${s.name}: HTTP ${res.status}`);
      }),
    ),
  );
}
