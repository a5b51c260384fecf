// The startsecs benchmark's site: real haproxy and supervisord, slow-app instances, the built listener(s),
// and the direct probes that measure an app's own boot + warm time without HAProxy or the listener.

import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Teardown } from '../demo/teardown.js';
import { startHaproxy, statsCommand, statusFromShowStat, type HaproxyInstance } from '../test/support/haproxy.js';
import { ROOT } from '../test/support/paths.js';
import { freePort, withFreshPorts } from '../test/support/ports.js';
import { appProgram, appsListening, listenerProgram, type AppEnv } from '../test/support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../test/support/supervisord.js';
import { waitFor } from '../test/support/wait.js';

export const BACKEND = 'site';

/** The part of dist/supervisor/rpc.js's SupervisorRpc used here (dist ships no .d.ts). */
export interface Rpc {
  stopProcess(namespec: string, wait?: boolean): Promise<boolean>;
  startProcess(namespec: string, wait?: boolean): Promise<boolean>;
  call(method: string, params?: readonly unknown[]): Promise<unknown>;
}

type RpcClass = new (opts: { url: string; username: string | null; password: string | null; timeoutMs: number }) => Rpc;

/** The package's own XML-RPC client, from the build: supervisord is driven as the product drives it. */
async function loadRpc(): Promise<RpcClass> {
  const mod = (await import(pathToFileURL(join(ROOT, 'dist', 'supervisor', 'rpc.js')).href)) as { SupervisorRpc: RpcClass };
  return mod.SupervisorRpc;
}

export interface AppSpec {
  /** Program name in supervisord (and server name in HAProxy when `inHaproxy`). */
  readonly name: string;
  readonly env: AppEnv;
  readonly startsecs: number;
  readonly autostart: boolean;
  /** A server of BACKEND, mapped by the listeners (`warmup = /site`); false: a twin nothing but the bench probes. */
  readonly inHaproxy: boolean;
  /** supervisord group, if any: its processes are then `group:name`. */
  readonly group?: string;
}

export interface ListenerSpec {
  /** Its eventlistener name in supervisord; its config and log live in DIR/NAME/. */
  readonly name: string;
  /** The [warmup] section's lines (without the header). */
  readonly warmup: readonly string[];
  readonly autostart: boolean;
}

export interface StackOptions {
  readonly dir: string;
  readonly apps: readonly AppSpec[];
  readonly listeners: readonly ListenerSpec[];
}

export interface Stack {
  readonly hap: HaproxyInstance;
  readonly sup: SupervisordInstance;
  readonly rpc: Rpc;
  readonly frontendPort: number;
  readonly ports: Readonly<Record<string, number>>;
  /** `show stat` status of every server of BACKEND (`UP`, `MAINT`, `DOWN`…), one CLI connection. */
  statuses(): Promise<Record<string, string>>;
  /** supervisord's namespec of an app (`group:name` or `name`). */
  namespec(app: string): string;
  /** The stderr log of a listener. */
  listenerLog(name: string): string;
  /** Starts a listener and waits until it has resynced (this start, not an earlier one) and gone quiet with `settled()`. */
  startListener(name: string, settled: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  stopListener(name: string): Promise<void>;
}

function listenerIni(socket: string, spec: ListenerSpec, apps: readonly AppSpec[]): string {
  const lines = ['[haproxy]', `socket = ${socket}`, 'heartbeat = 500ms', '', '[warmup]', ...spec.warmup, ''];
  for (const a of apps.filter((x) => x.inHaproxy)) {
    lines.push(a.group === undefined ? `[program:${a.name}]` : `[program:${a.group}:${a.name}]`, `servers = ${BACKEND}/${a.name}`, 'warmup = /site', '');
  }
  return lines.join('\n');
}

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
  const hap = await teardown.own(
    'haproxy',
    startHaproxy({
      dir: join(opts.dir, 'haproxy'),
      backends: [
        {
          name: BACKEND,
          options: ['option httpchk GET /health'],
          servers: opts.apps.filter((a) => a.inHaproxy).map((a) => ({ name: a.name, port: ports[a.name] as number, check: true, options: 'inter 500ms rise 1 fall 1' })),
        },
      ],
      frontends: [{ name: 'fe', port: frontendPort, backend: BACKEND }],
      defaults: ['option forwardfor'],
    }),
    (h) => h.stop(),
  );
  const socket = hap.sockets[0] as string;
  const sections: string[] = [];
  for (const a of opts.apps) {
    const extra = [`startsecs = ${a.startsecs}`, ...(a.autostart ? [] : ['autostart = false'])];
    sections.push(appProgram(supDir, a.name, { ...a.env, PORT: ports[a.name] as number }, extra).replace(/^startsecs = 1\n/m, ''));
  }
  const groups = new Map<string, string[]>();
  for (const a of opts.apps) if (a.group !== undefined) groups.set(a.group, [...(groups.get(a.group) ?? []), a.name]);
  for (const [g, members] of groups) sections.push(`[group:${g}]\nprograms = ${members.join(',')}\n`);
  for (const l of opts.listeners) {
    const lDir = join(supDir, l.name);
    await mkdir(lDir, { recursive: true });
    const configPath = join(lDir, 'listener.ini');
    await writeFile(configPath, listenerIni(socket, l, opts.apps));
    sections.push(listenerProgram(lDir, configPath, { name: l.name, extra: l.autostart ? [] : ['autostart = false'] }));
  }
  // A failed attempt stops what it started before the next one (the teardown stops them again, harmlessly).
  const sup = await teardown.own('supervisord', startSupervisord({ dir: supDir, programs: sections.join('\n') }), (s) => s.stop()).catch(
    async (e: unknown) => {
      await hap.stop();
      throw e;
    },
  );
  const autostarted = opts.apps.filter((a) => a.autostart).map((a) => a.name);
  if (autostarted.length > 0) {
    await appsListening(supDir, autostarted, 60_000).catch(async (e: unknown) => {
      await sup.stop();
      await hap.stop();
      throw e;
    });
  }
  const Rpc = await loadRpc();
  const rpc = new Rpc({ url: sup.url, username: null, password: null, timeoutMs: 30_000 });
  const names = opts.apps.filter((a) => a.inHaproxy).map((a) => a.name);
  const groupOf = new Map(opts.apps.map((a) => [a.name, a.group]));
  const listenerLog = (name: string): string => join(supDir, name, 'listener.log');

  return {
    hap,
    sup,
    rpc,
    frontendPort,
    ports,
    async statuses() {
      const csv = await statsCommand(socket, `show stat ${BACKEND} 4 -1`);
      return Object.fromEntries(names.map((n) => [n, statusFromShowStat(csv, n) ?? '?']));
    },
    namespec: (app) => {
      const g = groupOf.get(app);
      return g === undefined ? app : `${g}:${app}`;
    },
    listenerLog,
    async startListener(name, settled, timeoutMs) {
      const log = listenerLog(name);
      const from = await stat(log).then((s) => s.size, () => 0);
      const res = await sup.ctl('start', name);
      if (res.code !== 0) throw new Error(`supervisorctl start ${name}: ${(res.stdout + res.stderr).trim()}`);
      // "msg=resync": it has asked supervisord for the truth and acted on it; then nothing logged for 1 s.
      await waitFor(async () => /msg="?resync"? /.test((await readFile(log, 'utf8')).slice(from)), { timeoutMs, intervalMs: 50, what: `${name} to resync (${log})` });
      let size = -1;
      let since = Date.now();
      await waitFor(
        async () => {
          const now = (await stat(log)).size;
          if (now !== size) {
            size = now;
            since = Date.now();
            return false;
          }
          return Date.now() - since >= 1000 && (await settled());
        },
        { timeoutMs, intervalMs: 100, what: `${name} to go quiet with the servers settled (${log})` },
      );
    },
    async stopListener(name) {
      const res = await sup.ctl('stop', name);
      if (res.code !== 0) throw new Error(`supervisorctl stop ${name}: ${(res.stdout + res.stderr).trim()}`);
    },
  };
}

/** Whether a TCP connection to 127.0.0.1:port is accepted (closed at once: no request is sent). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** performance.now() at the first accepted connection, trying every `everyMs`. */
export async function portOpenAt(port: number, everyMs: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return performance.now();
    if (performance.now() > deadline) throw new Error(`port ${port} still closed after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** GET on a fresh connection; resolves with the status (0: failed) once the whole answer is in. */
function get(port: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * GETs path back to back (the first right away: call it once the port is open) until one answers 2xx within
 * maxTimeMs: the app is warm. Returns performance.now() at the end of that answer and how many requests it took.
 */
export async function firstFastAnswer(port: number, path: string, maxTimeMs: number, timeoutMs: number): Promise<{ at: number; tries: number }> {
  const deadline = performance.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    const t = performance.now();
    const status = await get(port, path, timeoutMs);
    const at = performance.now();
    if (status >= 200 && status < 300 && at - t <= maxTimeMs) return { at, tries };
    if (at > deadline) throw new Error(`port ${port}: no fast answer on ${path} within ${timeoutMs} ms`);
    if (status === 0) await sleep(10);
  }
}

/** Polls `statuses()` every everyMs until `done` holds for them; performance.now() of that poll. */
export async function pollStatuses(
  stack: Stack,
  everyMs: number,
  timeoutMs: number,
  what: string,
  done: (s: Record<string, string>, at: number) => boolean,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = await stack.statuses();
    const at = performance.now();
    if (done(s, at)) return at;
    if (at > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${JSON.stringify(s)}`);
    await sleep(everyMs);
  }
}
