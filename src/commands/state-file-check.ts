// `check` of the state files (`[haproxy] server_state_file`, `[listener] state_file`): whether the listener's
// user can keep each one (I/O injected).

import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Finding } from './check.js';

/** A user as the kernel checks permissions: uid, and every group (primary and supplementary). */
export interface Who {
  readonly name: string;
  readonly uid: number;
  readonly gids: readonly number[];
  /** How check knows: "the listener's user", or that it is check's own for lack of a listener. */
  readonly why: string;
}

/** What the check needs of the file system, judged for one user. */
export interface StateFileFs {
  /** null when nothing is at path. */
  kind(path: string): 'file' | 'dir' | 'other' | null;
  writable(path: string): boolean;
  readonly user: string;
}

/** The real file system, with permissions judged for `who` from each path's owner, group and mode. */
export const realFs = (who: Who = currentUser()): StateFileFs => ({
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
      return mayWrite(statSync(path), who);
    } catch {
      return false;
    }
  },
  user: `${who.name} (${who.why})`,
});

/** Whether the kernel lets `who` write to a file with this owner, group and mode (root may always). */
export function mayWrite(st: { readonly mode: number; readonly uid: number; readonly gid: number }, who: Who): boolean {
  if (who.uid === 0) return true;
  if (st.uid === who.uid) return (st.mode & 0o200) !== 0;
  if (who.gids.includes(st.gid)) return (st.mode & 0o020) !== 0;
  return (st.mode & 0o002) !== 0;
}

/** The user running check. */
export function currentUser(why = 'who runs check: no listener found to tell its user'): Who {
  return { name: userInfo().username, uid: process.getuid?.() ?? 0, gids: process.getgroups?.() ?? [], why };
}

/**
 * The user a running process has, from /proc/PID/status: what supervisord's `user=` gave the listener,
 * supplementary groups included. null when /proc cannot tell.
 */
export function userOfPid(pid: number, why: string): Who | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ids = (field: string): number[] =>
      (new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').split(/\s+/).filter((x) => x !== '').map(Number);
    const uid = ids('Uid')[1];
    const gid = ids('Gid')[1];
    if (uid === undefined || gid === undefined) return null;
    return { name: userName(uid), uid, gids: [gid, ...ids('Groups')], why };
  } catch {
    return null;
  }
}

function userName(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line?.split(':')[0] ?? `uid ${uid}`;
  } catch {
    return `uid ${uid}`;
  }
}

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
  // The file itself is never opened for writing: a new one is renamed over it.
  return { verdict: 'ok', detail: `${path}: ${dir} writable by ${fs.user}` };
}

/** `[listener] state_file`: kept the same way (a temp file renamed over it). */
export function checkListenerStateFile(path: string | null, fs: StateFileFs): Finding {
  const subject = 'listener state_file';
  if (path === null) return { verdict: 'skip', subject, detail: 'not set: status cannot tell a warm-up in progress from one that failed' };
  return { subject, ...fileVerdict(path, fs) };
}
