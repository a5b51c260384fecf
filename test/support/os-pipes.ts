// A child on OS pipes for stdin and stdout, as supervisord gives its listeners (os.pipe()); Node's 'pipe' stdio are socketpairs.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

interface OsPipes {
  /** The ends the child gets, as its fds 0 and 1 (pass them in spawn's stdio, then call closeChildEnds). */
  readonly childEnds: readonly [number, number];
  /** Our write end of the child's stdin. */
  readonly toChild: Socket;
  /** Our read end of the child's stdout. */
  readonly fromChild: Socket;
  /** Once the child has them: our copies would keep its stdin from ever reaching EOF. */
  closeChildEnds(): void;
}

/**
 * A pipe with both ends blocking, as os.pipe() makes it: a FIFO in `dir`, unlinked once open. Node has no
 * pipe(2); opening the FIFO read-write first lets both real ends open without waiting for each other, and
 * without O_NONBLOCK, which would be shared with the child through its end.
 */
function fifo(dir: string, name: string): { read: number; write: number } {
  const path = join(dir, name);
  execFileSync('mkfifo', ['-m', '600', path]);
  const holder = openSync(path, constants.O_RDWR);
  try {
    return { read: openSync(path, constants.O_RDONLY), write: openSync(path, constants.O_WRONLY) };
  } finally {
    closeSync(holder);
    unlinkSync(path);
  }
}

/** Two pipes: the child's stdin and stdout. `dir` holds the FIFOs for a moment; name them by `tag`. */
function osPipes(dir: string, tag: string): OsPipes {
  const stdin = fifo(dir, `${tag}.stdin.fifo`);
  const stdout = fifo(dir, `${tag}.stdout.fifo`);
  return {
    childEnds: [stdin.read, stdout.write],
    toChild: new Socket({ fd: stdin.write, readable: false, writable: true }),
    fromChild: new Socket({ fd: stdout.read, readable: true, writable: false }),
    closeChildEnds() {
      closeSync(stdin.read);
      closeSync(stdout.write);
    },
  };
}

export interface PipedChild {
  readonly child: ChildProcess;
  /** Our write end of its stdin. */
  readonly toChild: Socket;
  /** Our read end of its stdout. */
  readonly fromChild: Socket;
}

/**
 * Spawns `cmd args` with stdin and stdout on OS pipes (FIFOs made in `dir` for a moment, named by `tag`) and
 * stderr appended to stderrPath; resolves once it runs.
 */
export async function spawnOnOsPipes(
  cmd: string,
  args: readonly string[],
  opts: { readonly dir: string; readonly tag: string; readonly stderrPath: string; readonly env: NodeJS.ProcessEnv },
): Promise<PipedChild> {
  const pipes = osPipes(opts.dir, opts.tag);
  const err = openSync(opts.stderrPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: [...pipes.childEnds, err], env: opts.env });
  } finally {
    closeSync(err);
    pipes.closeChildEnds();
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, toChild: pipes.toChild, fromChild: pipes.fromChild };
}
