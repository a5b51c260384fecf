// The built listener run as supervisord runs it, on OS pipes, driven by the test: frames in, stdout and stderr kept.

import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { spawnOnOsPipes } from './os-pipes.js';
import { requireBuiltCli } from './paths.js';
import type { Exit } from './process.js';
import { waitFor } from './wait.js';

export interface PipedListener {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the listener wrote on stdout so far. */
  stdout(): string;
  /** Its stderr log so far. */
  stderr(): Promise<string>;
  /** Writes to its stdin, as supervisord would. */
  write(data: string | Buffer): void;
  /** Resolves with the exit; `exit` is set once it has exited. */
  readonly exited: Promise<Exit>;
  exit: Exit | null;
  /** Polls stdout until it holds `text` (from the start) n times; fails fast if the listener exits. */
  waitForStdout(text: string, times: number, timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running; for teardown. */
  kill(): Promise<void>;
}

const count = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

/** Starts `node ...nodeArgs dist/cli.js ...args` with stdin and stdout on OS pipes (os.pipe() in supervisord), stderr to logPath. */
export async function startPipedListener(
  dir: string,
  tag: string,
  args: readonly string[],
  logPath: string,
  nodeArgs: readonly string[] = [],
): Promise<PipedListener> {
  const pipes = await spawnOnOsPipes(process.execPath, [...nodeArgs, requireBuiltCli(), ...args], {
    dir,
    tag,
    stderrPath: logPath,
    // Not run by supervisord here: no SUPERVISOR_* of an outer one may leak in.
    env: { ...process.env, SUPERVISOR_SERVER_URL: '', SUPERVISOR_PROCESS_NAME: 'listener', SUPERVISOR_GROUP_NAME: 'listener' },
  });
  const { child } = pipes;
  let out = '';
  pipes.fromChild.setEncoding('utf8').on('data', (c: string) => (out += c));
  // The listener gone, a write to its stdin fails with EPIPE: the test reads that from the exit instead.
  pipes.toChild.on('error', () => {});
  const listener: PipedListener = {
    pid: child.pid as number,
    child,
    stdout: () => out,
    stderr: () => readFile(logPath, 'utf8'),
    write: (data) => void pipes.toChild.write(data),
    exit: null,
    exited: new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        listener.exit = { code, signal };
        resolve(listener.exit);
      });
    }),
    async waitForStdout(text, times, timeoutMs = 10_000) {
      const seen = await waitFor(() => (count(out, text) >= times ? 'seen' : listener.exit === null ? false : 'exited'), {
        timeoutMs,
        intervalMs: 10,
        what: `${times} × ${JSON.stringify(text)} on the listener's stdout`,
      });
      if (seen === 'exited') {
        throw new Error(`listener exited (${JSON.stringify(listener.exit)}) with stdout ${JSON.stringify(out)}:\n${await listener.stderr()}`);
      }
    },
    async kill() {
      if (listener.exit !== null) return;
      child.kill('SIGKILL');
      await listener.exited;
    },
  };
  return listener;
}
