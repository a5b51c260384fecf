// `check` of `[haproxy] server_state_file`: per socket, whether the listener can keep that file (I/O injected).

import { accessSync, constants, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Finding } from './check.js';

/** What the check needs of the file system; the default reads the real one as the current user. */
export interface StateFileFs {
  /** null when nothing is at path. */
  kind(path: string): 'file' | 'dir' | 'other' | null;
  writable(path: string): boolean;
  readonly user: string;
}

export const realFs = (): StateFileFs => ({
  kind(path) {
    try {
      const st = statSync(path);
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    } catch {
      return null;
    }
  },
  writable(path) {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  user: userInfo().username,
});

/** One finding per socket with a file; paths[i] belongs to sockets[i] (null: none for that socket). */
export function checkServerStateFiles(paths: readonly (string | null)[], sockets: readonly string[], fs: StateFileFs): Finding[] {
  if (paths.every((p) => p === null)) {
    return [
      {
        verdict: 'skip',
        subject: 'haproxy server_state_file',
        detail: 'not set: an HAProxy reload forgets maint and drain until the listener sets them again',
      },
    ];
  }
  return paths.flatMap((path, i): Finding[] => {
    const subject = `haproxy ${sockets[i] ?? `socket #${i + 1}`} server_state_file`;
    if (i >= sockets.length) return [{ verdict: 'FAIL', subject, detail: `${path ?? '(none)'}: more files than sockets (one per socket, in socket order)` }];
    if (path === null) return [{ verdict: 'skip', subject, detail: 'none for this socket' }];
    return [{ subject, ...fileVerdict(path, fs) }];
  });
}

function fileVerdict(path: string, fs: StateFileFs): Omit<Finding, 'subject'> {
  const dir = dirname(path);
  const fail = (detail: string) => ({ verdict: 'FAIL' as const, detail: `${path}: ${detail}` });
  const dirKind = fs.kind(dir);
  if (dirKind === null) return fail(`directory ${dir} does not exist`);
  if (dirKind !== 'dir') return fail(`${dir} is not a directory`);
  // The listener writes a temp file beside it and renames it over the old one: the directory must be writable.
  if (!fs.writable(dir)) return fail(`directory ${dir} is not writable by ${fs.user}`);
  const kind = fs.kind(path);
  if (kind === null) return { verdict: 'ok', detail: `${path}: not there yet; ${dir} writable by ${fs.user}` };
  if (kind !== 'file') return fail('not a regular file');
  if (!fs.writable(path)) return fail(`not writable by ${fs.user}`);
  return { verdict: 'ok', detail: `${path}: writable by ${fs.user}` };
}
