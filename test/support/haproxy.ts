// A real haproxy for integration tests: config in a temp dir, loopback ports, a tiny stats-socket client.

import { connect } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { haproxyVersion, requireBinary } from './binaries.js';
import { asPortInUse, freePort } from './ports.js';
import { catchesSignal, descendants, reapPids, spawnLogged, terminate, waitUntilReady, type Spawned } from './process.js';
import { waitFor } from './wait.js';

export type SocketLevel = 'admin' | 'operator' | 'user';

export interface HaproxyServerSpec {
  readonly name: string;
  readonly port: number;
  /** Adds `check` (HAProxy health checks). */
  readonly check?: boolean;
  /** Appended to the `server` line, e.g. `inter 500ms rise 1 fall 1`. */
  readonly options?: string;
}

export interface HaproxyBackendSpec {
  readonly name: string;
  readonly servers: readonly HaproxyServerSpec[];
  /** Extra lines in the backend section, e.g. `option httpchk GET /health`. */
  readonly options?: readonly string[];
}

export interface HaproxyOptions {
  readonly dir: string;
  readonly backends: readonly HaproxyBackendSpec[];
  readonly frontends?: readonly { readonly name: string; readonly port: number; readonly backend: string }[];
  /** Default: one unix socket at level admin (`<dir>/admin.sock`). */
  readonly sockets?: readonly {
    readonly kind: 'unix' | 'tcp';
    readonly level: SocketLevel;
    /** unix: the socket's mode (default 600) and group (default: haproxy's own). */
    readonly mode?: string;
    readonly group?: string;
  }[];
  /** `stats maxconn` (HAProxy's default is 10 CLI connections across all stats sockets). */
  readonly statsMaxconn?: number;
  /** Extra lines for `global` and `defaults` (later lines win, e.g. another `timeout server`). */
  readonly global?: readonly string[];
  readonly defaults?: readonly string[];
  /** Master-worker mode (`haproxy -W -db`, a foreground master): reload() sends SIGUSR2 to the master. */
  readonly masterWorker?: boolean;
  /**
   * Seamless foreground reloads: the first (unix) stats socket gets `expose-fd listeners` and reload() passes
   * `-x` with it, so the new process takes over the listening sockets instead of binding its own.
   */
  readonly exposeListeners?: boolean;
}

export interface HaproxyInstance {
  /** Pid of the running haproxy (the master in master-worker mode); changes on restart() and a foreground reload(). */
  readonly pid: number;
  readonly masterWorker: boolean;
  /** What `haproxy -v` says, e.g. `2.2.9-2+deb11u6`: the first haproxy on PATH, which the tests run with. */
  readonly version: string;
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** In order of opts.sockets, as our config accepts them: absolute unix path or tcp://127.0.0.1:port. */
  readonly sockets: readonly string[];
  /** One command on its own connection (sockets[0] unless given); the raw reply. */
  cmd(command: string, socket?: string): Promise<string>;
  /** The `status` column of `show stat` for one server, e.g. `UP`, `MAINT`, `UP 1/2`, `no check`. */
  serverStatus(backend: string, server: string): Promise<string>;
  /** Polls until the server's status starts with `prefix`; throws after timeoutMs naming what it saw. */
  waitStatus(backend: string, server: string, prefix: string, timeoutMs: number): Promise<void>;
  /** SIGTERM, SIGKILL after 3 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** stop() and start again with the same config and ports: all runtime state is lost. */
  restart(): Promise<void>;
  /**
   * A soft reload as operators do it: in the foreground, a new `haproxy -db -f cfg -sf OLDPID` (the old
   * process finishes its connections and exits); in master-worker mode, SIGUSR2 to the master. Resolves once
   * `show info` on the first socket names a new worker Pid.
   */
  reload(): Promise<void>;
  /** `Pid:` of `show info` on the first socket: the process (or worker) that answers the stats socket now. */
  workerPid(): Promise<number>;
}

const CMD_TIMEOUT_MS = 5000;
const START_TIMEOUT_MS = 10_000;
/** haproxy's alert when a port it was given is taken (a frontend or a tcp stats socket). */
const HAPROXY_PORT_IN_USE = /cannot bind socket \(Address already in use\)/;

/** Sends `command\n` and reads until HAProxy closes (non-interactive mode: one command per connection). */
export function statsCommand(socket: string, command: string, timeoutMs = CMD_TIMEOUT_MS): Promise<string> {
  const tcp = /^tcp:\/\/([^:]+):(\d+)$/.exec(socket);
  return new Promise((resolve, reject) => {
    const conn = tcp !== null ? connect(Number(tcp[2]), tcp[1]) : connect(socket);
    const chunks: Buffer[] = [];
    // Excess CLI connections hang rather than being refused (stats maxconn): always bound the wait.
    conn.setTimeout(timeoutMs, () =>
      conn.destroy(new Error(`haproxy ${socket}: no answer to '${command}' within ${timeoutMs} ms`)),
    );
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    conn.on('error', (e) => reject(new Error(`haproxy ${socket}: '${command}': ${e.message}`)));
    conn.end(`${command}\n`);
  });
}

/** One column of one server's row in `show stat` CSV, looked up by header name (128 columns, one named `-`). */
export function fieldFromShowStat(csv: string, server: string, field: string): string | undefined {
  const lines = csv.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (header === undefined) return undefined;
  const cols = header.slice(2).split(',');
  const sv = cols.indexOf('svname');
  const col = cols.indexOf(field);
  if (col < 0) return undefined;
  for (const line of lines) {
    const cells = line.split(',');
    if (!line.startsWith('#') && cells[sv] === server) return cells[col];
  }
  return undefined;
}

/** `status` of one server from `show stat` CSV. */
export function statusFromShowStat(csv: string, server: string): string | undefined {
  return fieldFromShowStat(csv, server, 'status');
}

function renderConfig(opts: HaproxyOptions, sockets: readonly { line: string }[]): string {
  const out: string[] = ['global'];
  for (const s of sockets) out.push(`  ${s.line}`);
  out.push('  stats timeout 10s');
  if (opts.statsMaxconn !== undefined) out.push(`  stats maxconn ${opts.statsMaxconn}`);
  for (const l of opts.global ?? []) out.push(`  ${l}`);
  out.push(
    '',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 10s',
    '  timeout server 10s',
    '  timeout check 1s',
    '  option redispatch',
    '  retries 3',
    '  retry-on conn-failure empty-response response-timeout',
  );
  for (const l of opts.defaults ?? []) out.push(`  ${l}`);
  for (const fe of opts.frontends ?? []) {
    out.push('', `frontend ${fe.name}`, `  bind 127.0.0.1:${fe.port}`, `  default_backend ${fe.backend}`);
  }
  for (const be of opts.backends) {
    out.push('', `backend ${be.name}`);
    for (const l of be.options ?? []) out.push(`  ${l}`);
    for (const s of be.servers) {
      const extra = [s.check === true ? 'check' : '', s.options ?? ''].filter((x) => x !== '').join(' ');
      out.push(`  server ${s.name} 127.0.0.1:${s.port}${extra === '' ? '' : ` ${extra}`}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Starts `haproxy [-W] -db -f <dir>/haproxy.cfg` and waits until its first stats socket answers `show info`. */
export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyInstance> {
  const bin = requireBinary('haproxy');
  const version = haproxyVersion(bin);
  await mkdir(opts.dir, { recursive: true });
  const used = new Set<string>();
  const socketSpecs = await Promise.all(
    (opts.sockets ?? [{ kind: 'unix' as const, level: 'admin' as const }]).map(async (s, i) => {
      if (s.kind === 'tcp') {
        const port = await freePort();
        return { address: `tcp://127.0.0.1:${port}`, line: `stats socket ipv4@127.0.0.1:${port} level ${s.level}` };
      }
      const base = used.has(s.level) ? `${s.level}-${i}` : s.level;
      used.add(s.level);
      const path = join(opts.dir, `${base}.sock`);
      const group = s.group === undefined ? '' : ` group ${s.group}`;
      const expose = i === 0 && opts.exposeListeners === true ? ' expose-fd listeners' : '';
      return { address: path, line: `stats socket ${path} mode ${s.mode ?? '600'} level ${s.level}${group}${expose}` };
    }),
  );
  const sockets = socketSpecs.map((s) => s.address);
  const configPath = join(opts.dir, 'haproxy.cfg');
  const logPath = join(opts.dir, 'haproxy.log');
  await writeFile(configPath, renderConfig(opts, socketSpecs));

  const first = sockets[0];
  if (first === undefined) throw new Error('startHaproxy: at least one stats socket is needed');

  const workerPid = async (): Promise<number> => {
    const m = /^Pid: (\d+)$/m.exec(await statsCommand(first, 'show info', 1000));
    if (m === null) throw new Error(`haproxy ${first}: no Pid in show info`);
    return Number(m[1]);
  };
  const masterWorker = opts.masterWorker === true;
  // Every haproxy ever started here, old processes of a soft reload included: stop() ends each one by pid.
  const started: Spawned[] = [];
  /** Starts haproxy and waits until a process other than `notPid` answers `show info` on the first socket. */
  const launch = async (extra: readonly string[], notPid: number | null): Promise<Spawned> => {
    // -db: foreground, no daemon, alerts and warnings on stderr (→ haproxy.log). With -W, -db keeps the master in front.
    const args = [...(masterWorker ? ['-W'] : []), '-db', '-f', configPath, ...extra];
    const p = await spawnLogged(bin, args, { logPath });
    started.push(p);
    await waitUntilReady(p, async () => (notPid === null ? (await statsCommand(first, 'show info', 1000)).includes('Name: HAProxy') : (await workerPid()) !== notPid), {
      name: 'haproxy',
      logPath,
      timeoutMs: START_TIMEOUT_MS,
    }).catch((e: unknown) => {
      throw asPortInUse(e, HAPROXY_PORT_IN_USE);
    });
    return p;
  };

  let proc = await launch([], null);
  const stop = async (): Promise<void> => {
    // Workers of a master (current and old ones still finishing) are known only before it goes.
    const children = started.flatMap((p) => (p.exit === null ? descendants(p.pid) : []));
    await Promise.all(started.map((p) => terminate(p, 3000)));
    await reapPids(children, 3000);
  };
  const reload = async (): Promise<void> => {
    const before = await workerPid();
    if (!masterWorker) {
      proc = await launch([...(opts.exposeListeners === true ? ['-x', first] : []), '-sf', String(before)], before);
      return;
    }
    // HAProxy 2.6's master ignores SIGUSR2 for a moment after it starts (even after "Loading success."),
    // and a signal sent then is lost: wait until its handler is in place.
    await waitFor(() => catchesSignal(proc.pid, constants.signals.SIGUSR2) || undefined, {
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 10,
      what: `haproxy master ${proc.pid} to catch SIGUSR2`,
    });
    proc.child.kill('SIGUSR2');
    await waitUntilReady(proc, async () => (await workerPid()) !== before, {
      name: 'haproxy master after SIGUSR2',
      logPath,
      timeoutMs: START_TIMEOUT_MS,
    });
  };
  const serverStatus = async (backend: string, server: string): Promise<string> => {
    const csv = await statsCommand(first, `show stat ${backend} 4 -1`);
    const status = statusFromShowStat(csv, server);
    if (status === undefined) throw new Error(`haproxy: no server ${backend}/${server} in show stat: ${csv.slice(0, 200)}`);
    return status;
  };
  return {
    get pid() {
      return proc.pid;
    },
    masterWorker,
    version,
    dir: opts.dir,
    configPath,
    logPath,
    sockets,
    cmd: (command, socket = first) => statsCommand(socket, command),
    serverStatus,
    async waitStatus(backend, server, prefix, timeoutMs) {
      await waitFor(async () => (await serverStatus(backend, server)).startsWith(prefix) || undefined, {
        timeoutMs,
        intervalMs: 20,
        what: `${backend}/${server} ${prefix}`,
      });
    },
    stop,
    async restart() {
      await stop();
      proc = await launch([], null);
    },
    reload,
    workerPid,
  };
}
