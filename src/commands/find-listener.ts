// Which supervisord process is the listener for this config, from /proc and the listener's state file.

import { realpathSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/types.js';
import { errorText } from '../errors.js';
import { parseSnapshot, type ListenerSnapshot } from '../reconcile/snapshot.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec } from '../supervisor/types.js';

/** What the listener's state file says. */
export interface ListenerView {
  readonly stateFile: string;
  readonly snapshot: ListenerSnapshot | null;
  /** Whether the pid that wrote the file still runs. */
  readonly running: boolean;
  readonly error: string | null;
}

/**
 * supervisord's XML-RPC does not give a process's command line, so a listener is a RUNNING supervisord process
 * whose own command line names this config (`--config FILE`, read from /proc), or, where that cannot be read,
 * the live pid in the listener's state file.
 */
export type ListenerFinding =
  | { readonly running: true; readonly names: readonly string[]; readonly pid: number; readonly detail: string }
  | { readonly running: false; readonly detail: string }
  /** Cannot tell: supervisord runs on another host, where neither /proc nor pids mean anything here. */
  | { readonly running: null; readonly detail: string };

export interface FindListenerInput {
  readonly infos: readonly ProcessInfo[];
  /** The config file as given, and as resolved (realpath), to compare with each process's. */
  readonly configFile: string;
  /** For each RUNNING pid: the config files its command line names, resolved; null when /proc could not tell. */
  readonly configsOf: ReadonlyMap<number, readonly string[] | null>;
  readonly configReal: string;
  /** What the state file said; null without `[listener] state_file`. */
  readonly stateFile: ListenerView | null;
  /** supervisord is on this host (a unix socket, or http to a loopback address). */
  readonly local: boolean;
}

export function findListener(input: FindListenerInput): ListenerFinding {
  if (!input.local) {
    return { running: null, detail: 'cannot tell: supervisord is on another host (run status and check there)' };
  }
  const running = input.infos.filter((i) => i.state === 'RUNNING' && i.pid > 0);
  const byCommand = running.filter((i) => input.configsOf.get(i.pid)?.includes(input.configReal) === true);
  if (byCommand.length > 0) return found(byCommand, 'its command line names this config');
  const snapshot = input.stateFile?.snapshot ?? null;
  if (snapshot !== null && input.stateFile?.running === true) {
    // Only where /proc cannot tell: a listener whose command line names another file (the original of a
    // copy that names the same state file) is not this config's.
    const byPid = running.filter((i) => i.pid === snapshot.pid && (input.configsOf.get(i.pid) ?? null) === null);
    if (byPid.length > 0) return found(byPid, `pid in ${input.stateFile.stateFile}`);
  }
  const why = [`no process of supervisord runs with --config ${input.configFile}`];
  const s = input.stateFile;
  if (s !== null && s.error !== null) why.push(`state file ${s.stateFile}: ${s.error}`);
  else if (s !== null && s.snapshot !== null && !s.running) why.push(`state file ${s.stateFile}: written by pid ${s.snapshot.pid}, which is not running`);
  return { running: false, detail: why.join('; ') };
}

function found(infos: readonly ProcessInfo[], how: string): ListenerFinding {
  const names = infos.map((i) => namespec({ group: i.group, process: i.name }));
  const pid = (infos[0] as ProcessInfo).pid;
  const several = infos.length > 1 ? ` (${infos.length} listeners on one config: each sets every server; keep one)` : '';
  return { running: true, names, pid, detail: `running under supervisord as ${names.join(', ')}, pid ${pid} (${how})${several}` };
}

/** Whether a supervisord url points at this host. */
export function isLocalUrl(url: string): boolean {
  if (url.startsWith('unix://')) return true;
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** The values of `--config FILE`, `--config=FILE`, `-c FILE` in a command line (the listener's own syntax). */
export function configArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    const next = argv[i + 1];
    if ((arg === '--config' || arg === '-c') && next !== undefined) out.push(next);
    else if (arg.startsWith('--config=')) out.push(arg.slice('--config='.length));
  });
  return out;
}

/** Finds the listener for this config among supervisord's processes, reading /proc for findListener's rule. */
export async function locateListener(config: Config, infos: readonly ProcessInfo[], stateFile: ListenerView | null): Promise<ListenerFinding> {
  const running = infos.filter((i) => i.state === 'RUNNING' && i.pid > 0);
  const configsOf = new Map(await Promise.all(running.map(async (i) => [i.pid, await configsOfPid(i.pid)] as const)));
  return findListener({
    infos,
    configFile: config.file,
    configReal: realPath(resolve(config.file)),
    configsOf,
    stateFile,
    local: config.supervisor.url !== null && isLocalUrl(config.supervisor.url),
  });
}

/** The config files a process's command line names, resolved as that process sees them; null: /proc says nothing. */
async function configsOfPid(pid: number): Promise<string[] | null> {
  let argv: string[];
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
  const given = configArgs(argv);
  // A relative path is relative to the process's directory (supervisord's `directory=`); unreadable: its own.
  const cwd = given.some((p) => !isAbsolute(p)) ? await readlink(`/proc/${pid}/cwd`).catch(() => '/') : '/';
  return given.map((p) => realPath(resolve(cwd, p)));
}

/** The path with its symlinks resolved, as configs are compared; as given when it cannot be (it does not exist). */
export function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Reads the listener's state file: its snapshot, and whether the listener that wrote it still runs. */
export async function readListenerFile(path: string): Promise<ListenerView> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { stateFile: path, snapshot: null, running: false, error: missing ? 'not there (is the listener running with this config?)' : errorText(err) };
  }
  try {
    const snapshot = parseSnapshot(text);
    return { stateFile: path, snapshot, running: isRunning(snapshot.pid), error: null };
  } catch (err) {
    return { stateFile: path, snapshot: null, running: false, error: errorText(err) };
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
