// A whole local site for the demo, the benchmarks and tests: haproxy (backend `site`, health checks, a
// frontend) in front of app programs under supervisord, with the listener(s), on free loopback ports.

import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { countingProgram } from './counting.js';
import { startHaproxy, statusFromShowStat, type HaproxyInstance } from './haproxy.js';
import { ROOT } from './paths.js';
import { freePort, withFreshPorts } from './ports.js';
import { appProgram, appsListening, listenerProgram, waitForListenerSettled, waitForResync, type AppEnv } from './programs.js';
import { startSupervisord, type SupervisordInstance } from './supervisord.js';
import type { Teardown } from './teardown.js';
import { waitFor } from './wait.js';

export const BACKEND = 'site';
export const SITE_PATH = '/site';

export interface StackApp {
  /** supervisord program name and HAProxy server name alike. */
  readonly name: string;
  /** slow-app (a Zope stand-in: slow boot, slow cold pages; the default) or the counting app (records every visit). */
  readonly kind?: 'slow' | 'counting';
  /** Its environment besides PORT (and the counting app's NAME and STATE_DIR). */
  readonly env: AppEnv;
  /** Lines ending its program section, e.g. `startsecs = 0` (they replace the defaults they name). */
  readonly extra?: readonly string[];
  /** supervisord group: its process is then `group:name`. */
  readonly group?: string;
  /** A server of BACKEND, mapped by the listeners (default); false: a twin only the caller talks to. */
  readonly inHaproxy?: boolean;
}

export interface StackListener {
  /** Its eventlistener name (default `listener`); its config and log live in DIR/supervisor/NAME/. */
  readonly name?: string;
  /** [haproxy] lines after `socket = …` (the stack's haproxy); null: no [haproxy] section (agent only). */
  readonly haproxy: readonly string[] | null;
  /** [warmup] lines. */
  readonly warmup: readonly string[];
  /** More sections, as lines, between [haproxy] and [warmup] (e.g. `[listener]`). */
  readonly sections?: readonly string[];
  /** The lines after `servers = …` in the [program:…] section of each app in HAProxy; default `warmup = /site`. */
  readonly mapping?: (app: string, port: number) => readonly string[];
  /** What supervisord runs before `--config FILE`, as argv (default: the built CLI, see listenerCommand). */
  readonly command?: readonly string[];
  /** Started with supervisord (default), or later with startListener(). */
  readonly autostart?: boolean;
  /** Lines ending its eventlistener section, e.g. `startsecs = 0`. */
  readonly extra?: readonly string[];
}

export interface StackOptions {
  /** Everything lives here: haproxy/, supervisor/ (supervisord's conf, socket `supervisor.sock` and logs, the apps' logs), supervisor/NAME/ per listener. */
  readonly dir: string;
  readonly apps: readonly StackApp[];
  readonly listeners?: readonly StackListener[];
  /** HAProxy health-check parameters on each server line, e.g. `inter 500ms rise 2 fall 2`. */
  readonly check: string;
  /** `option httpchk GET <path>`: default /health, which passes as soon as the port answers. */
  readonly healthPath?: string;
  /** Extra haproxy `global` / `defaults` lines. */
  readonly global?: readonly string[];
  readonly defaults?: readonly string[];
}

/** The part of dist/supervisor/rpc.js's SupervisorRpc the benchmarks use (dist ships no .d.ts). */
export interface Rpc {
  stopProcess(namespec: string, wait?: boolean): Promise<boolean>;
  startProcess(namespec: string, wait?: boolean): Promise<boolean>;
  call(method: string, params?: readonly unknown[]): Promise<unknown>;
}

type RpcClass = new (opts: { url: string; username: string | null; password: string | null; timeoutMs: number }) => Rpc;

/** The package's own XML-RPC client, from the build: supervisord is driven as the product drives it. */
export async function supervisorRpc(url: string): Promise<Rpc> {
  const mod = (await import(pathToFileURL(join(ROOT, 'dist', 'supervisor', 'rpc.js')).href)) as { SupervisorRpc: RpcClass };
  return new mod.SupervisorRpc({ url, username: null, password: null, timeoutMs: 30_000 });
}

export interface Stack {
  readonly dir: string;
  readonly hap: HaproxyInstance;
  readonly sup: SupervisordInstance;
  /** Where the apps log (NAME.err) and the counting apps record their visits. */
  readonly appDir: string;
  /** Port of each app, by name. */
  readonly ports: Readonly<Record<string, number>>;
  /** The servers of BACKEND, in order. */
  readonly servers: readonly string[];
  /** The frontend's site URL, where visitors go. */
  readonly siteUrl: string;
  /** The `status` column of `show stat` for every server (`UP`, `MAINT`, `DOWN 1/2`…), one CLI connection. */
  statuses(): Promise<Record<string, string>>;
  /** Resolves once every server shows exactly `UP`. */
  waitAllUp(timeoutMs: number): Promise<void>;
  /** Pid supervisord reports for a program (0 when it is not running). */
  pid(program: string): Promise<number>;
  /** supervisord's namespec of an app (`group:name` or `name`). */
  namespec(app: string): string;
  /** The directory of a listener (default `listener`): its listener.ini and listener.log. */
  listenerDir(name?: string): string;
  /** The stderr log of a listener. */
  listenerLog(name?: string): string;
  /**
   * `supervisorctl start NAME`; resolves once it has resynced (this start, not an earlier one), worked through
   * the events supervisord buffered for its pool, written nothing for quietMs, and `settled()` holds.
   */
  startListener(opts: { name?: string; settled?: () => Promise<boolean>; quietMs?: number; timeoutMs: number }): Promise<void>;
  stopListener(name?: string): Promise<void>;
  /** Stops supervisord (and with it every program) and haproxy; idempotent. */
  stop(): Promise<void>;
}

const LISTENER = 'listener';

function listenerIni(socket: string, l: StackListener, apps: readonly StackApp[], ports: Readonly<Record<string, number>>): string {
  // [supervisor] url is left out: supervisord gives its listener $SUPERVISOR_SERVER_URL.
  const haproxy = l.haproxy === null ? [] : ['[haproxy]', `socket = ${socket}`, ...l.haproxy, ''];
  const lines = [...haproxy, ...(l.sections ?? []), '[warmup]', ...l.warmup, ''];
  for (const a of apps.filter((x) => x.inHaproxy !== false)) {
    const section = a.group === undefined ? a.name : `${a.group}:${a.name}`;
    const mapping = l.mapping?.(a.name, ports[a.name] as number) ?? [`warmup = ${SITE_PATH}`];
    lines.push(`[program:${section}]`, `servers = ${BACKEND}/${a.name}`, ...mapping, '');
  }
  return lines.join('\n');
}

/**
 * Starts haproxy and supervisord with the apps and listeners, each registered with `teardown` as soon as it
 * runs, and resolves once every autostarted app listens and every autostarted listener has resynced. A start
 * that lost a port to another process before binding it is stopped and made again with fresh ports.
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
  const ports: Record<string, number> = {};
  for (const a of opts.apps) ports[a.name] = await freePort();
  const frontendPort = await freePort();
  const inHaproxy = opts.apps.filter((a) => a.inHaproxy !== false);
  const servers = inHaproxy.map((a) => a.name);

  const hap = await teardown.own(
    'haproxy',
    startHaproxy({
      dir: join(opts.dir, 'haproxy'),
      frontends: [{ name: 'www', port: frontendPort, backend: BACKEND }],
      backends: [
        {
          name: BACKEND,
          options: [`option httpchk GET ${opts.healthPath ?? '/health'}`],
          servers: inHaproxy.map((a) => ({ name: a.name, port: ports[a.name] as number, check: true, options: opts.check })),
        },
      ],
      ...(opts.global === undefined ? {} : { global: opts.global }),
      ...(opts.defaults === undefined ? {} : { defaults: opts.defaults }),
    }),
    (h) => h.stop(),
  );

  const socket = hap.sockets[0] as string;
  const sections: string[] = [];
  for (const a of opts.apps) {
    const port = ports[a.name] as number;
    sections.push(
      a.kind === 'counting'
        ? countingProgram(supDir, supDir, a.name, port, a.env, a.extra)
        : appProgram(supDir, a.name, { ...a.env, PORT: port }, a.extra),
    );
  }
  const groups = new Map<string, string[]>();
  for (const a of opts.apps) if (a.group !== undefined) groups.set(a.group, [...(groups.get(a.group) ?? []), a.name]);
  for (const [g, members] of groups) sections.push(`[group:${g}]\nprograms = ${members.join(',')}\n`);
  const listenerDir = (name = LISTENER): string => join(supDir, name);
  const listenerLog = (name = LISTENER): string => join(listenerDir(name), 'listener.log');
  for (const l of opts.listeners ?? []) {
    const name = l.name ?? LISTENER;
    const lDir = join(supDir, name);
    await mkdir(lDir, { recursive: true });
    const configPath = join(lDir, 'listener.ini');
    await writeFile(configPath, listenerIni(socket, l, opts.apps, ports));
    const extra = [...(l.autostart === false ? ['autostart = false'] : []), ...(l.extra ?? [])];
    sections.push(listenerProgram(lDir, configPath, { name, extra, ...(l.command === undefined ? {} : { command: l.command }) }));
  }
  let sup: SupervisordInstance | undefined;
  const undo = async (e: unknown): Promise<never> => {
    await sup?.stop(); // stops are idempotent; the teardown stops them again, harmlessly
    await hap.stop();
    throw e;
  };
  sup = await teardown.own('supervisord', startSupervisord({ dir: supDir, programs: sections.join('\n') }), (s) => s.stop()).catch(undo);
  // The apps bind ports picked above; one that lost its port makes this start fail.
  const autostarted = opts.apps.filter((a) => !(a.extra ?? []).includes('autostart = false')).map((a) => a.name);
  if (autostarted.length > 0) await appsListening(supDir, autostarted, 60_000).catch(undo);
  for (const l of opts.listeners ?? []) if (l.autostart !== false) await waitForResync(join(supDir, l.name ?? LISTENER)).catch(undo);

  const started = sup;
  const statuses = async (): Promise<Record<string, string>> => {
    const csv = await hap.cmd(`show stat ${BACKEND} 4 -1`);
    return Object.fromEntries(servers.map((s) => [s, statusFromShowStat(csv, s) ?? '?']));
  };
  const allUp = async (): Promise<boolean> => Object.values(await statuses()).every((s) => s === 'UP');
  const groupOf = new Map(opts.apps.map((a) => [a.name, a.group]));
  let stopped: Promise<void> | null = null;

  return {
    dir: opts.dir,
    hap,
    sup: started,
    appDir: supDir,
    ports,
    servers,
    siteUrl: `http://127.0.0.1:${frontendPort}${SITE_PATH}`,
    statuses,
    async waitAllUp(timeoutMs) {
      await waitFor(allUp, { timeoutMs, intervalMs: 50, what: `every server of ${BACKEND} UP` });
    },
    async pid(program) {
      const { stdout } = await started.ctl('pid', program);
      const n = Number(stdout.trim());
      return Number.isInteger(n) ? n : 0;
    },
    namespec(app) {
      const g = groupOf.get(app);
      return g === undefined ? app : `${g}:${app}`;
    },
    listenerDir,
    listenerLog,
    async startListener({ name = LISTENER, settled = allUp, quietMs = 1000, timeoutMs }) {
      const log = listenerLog(name);
      const from = await stat(log).then((s) => s.size, () => 0);
      const res = await started.ctl('start', name);
      if (res.code !== 0) throw new Error(`supervisorctl start ${name}: ${(res.stdout + res.stderr).trim()}`);
      await waitForListenerSettled(log, settled, { quietMs, timeoutMs, from });
    },
    async stopListener(name = LISTENER) {
      const res = await started.ctl('stop', name);
      if (res.code !== 0) throw new Error(`supervisorctl stop ${name}: ${(res.stdout + res.stderr).trim()}`);
    },
    stop() {
      stopped ??= (async () => {
        await started.stop(); // first: supervisord stops its programs, the listener among them
        await hap.stop();
      })();
      return stopped;
    },
  };
}

/** Sends each slow-app enough concurrent site requests, straight to its port, to leave it warm. */
export async function warmInstances(stack: Stack, warmAfter: number, timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    stack.servers.flatMap((name) =>
      Array.from({ length: warmAfter }, async () => {
        const res = await fetch(`http://127.0.0.1:${stack.ports[name]}${SITE_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`warming ${name}: HTTP ${res.status}`);
      }),
    ),
  );
}
