// Starting a server binary with its output in a log file, failing fast if it dies, and stopping it by pid.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { waitFor } from './wait.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (and been reaped). */
  readonly exited: Promise<Exit>;
  /** Set once the process has exited. */
  exit: Exit | null;
}

/** Spawns cmd with stdout and stderr appended to logPath; resolves once the OS has started it. */
export async function spawnLogged(
  cmd: string,
  args: readonly string[],
  opts: { logPath: string; env?: Record<string, string>; cwd?: string },
): Promise<Spawned> {
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...opts.env },
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${cmd}: no pid after spawn`);
  const spawned: Spawned = {
    child,
    pid,
    exit: null,
    exited: new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        spawned.exit = { code, signal };
        resolve(spawned.exit);
      });
    }),
  };
  return spawned;
}

/** Last lines of a log file, for error messages; never throws. */
export async function tail(path: string, lines = 25): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch (e) {
    return `(no log: ${(e as Error).message})`;
  }
}

/**
 * Polls ready() until it returns true; throws at once with the log tail if the process exits first,
 * or after timeoutMs naming what was awaited.
 */
export async function waitUntilReady(
  proc: Spawned,
  ready: () => Promise<boolean>,
  opts: { name: string; logPath: string; timeoutMs: number },
): Promise<void> {
  let outcome: 'ready' | Exit;
  try {
    outcome = await waitFor(async () => proc.exit ?? ((await ready()) ? 'ready' : undefined), {
      timeoutMs: opts.timeoutMs,
      intervalMs: 50,
      what: `${opts.name} to answer`,
    });
  } catch (e) {
    await terminate(proc, 3000);
    throw new Error(`${(e as Error).message}\n${opts.logPath}:\n${await tail(opts.logPath)}`);
  }
  if (outcome !== 'ready') {
    const how = outcome.signal ?? `code ${outcome.code}`;
    throw new Error(`${opts.name} exited during start-up (${how}); ${opts.logPath}:\n${await tail(opts.logPath)}`);
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function terminate(proc: Spawned, graceMs: number): Promise<Exit> {
  if (proc.exit !== null) return proc.exit;
  proc.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    proc.exited.then(() => true),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) proc.child.kill('SIGKILL');
  return proc.exited;
}

/** A process that exists and is not a zombie (an orphan's zombie may never be reaped in a container). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every descendant of pid, read from /proc (Linux). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const queue = [pid];
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Waits up to graceMs for the pids to be gone, then SIGKILLs the ones left. */
export async function reapPids(pids: readonly number[], graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface Captured {
  /** The exit code; 128 when killed by a signal (e.g. the timeout). */
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to the end with its output captured; never throws on a non-zero exit. */
export function runCaptured(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs: number; env?: Record<string, string> },
): Promise<Captured> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
      env: { ...process.env, ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 128,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - t0,
      }),
    );
  });
}

/** Whether pid has a handler installed for signal number `signo` and does not ignore it (/proc/<pid>/status, Linux). */
export function catchesSignal(pid: number, signo: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const mask = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    return m === null ? 0n : BigInt(`0x${m[1]}`);
  };
  const bit = 1n << BigInt(signo - 1);
  return (mask('SigCgt') & bit) !== 0n && (mask('SigIgn') & bit) === 0n;
}
