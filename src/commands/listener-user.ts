// Which user the listener runs as: the running listener's, or the `user=` of its section in supervisord's config.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { configArgs, realPath } from './find-listener.js';

/** A user as the kernel checks permissions: uid, and every group (primary and supplementary). */
export interface Who {
  readonly name: string;
  readonly uid: number;
  readonly gids: readonly number[];
  /** How check knows: "the listener's user", or that it is check's own for lack of a listener. */
  readonly why: string;
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

/** One INI section of supervisord's config: its name and its keys (last one wins, as configparser). */
interface ConfSection {
  readonly name: string;
  readonly keys: ReadonlyMap<string, string>;
}

/**
 * supervisord's config as configparser reads it, enough for `[include] files` and a section's `command`
 * and `user`: `key = value` or `key: value`, comments from `;` or `#` at the start or ` ;` inline,
 * indented lines continuing the value before them.
 */
export function parseSupervisordConf(text: string): ConfSection[] {
  const sections: { name: string; keys: Map<string, string> }[] = [];
  let last: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s;.*$/, '');
    if (/^\s*([;#]|$)/.test(line)) continue;
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section !== null) {
      sections.push({ name: (section[1] as string).trim(), keys: new Map() });
      last = null;
      continue;
    }
    const current = sections.at(-1);
    if (current === undefined) continue;
    if (/^\s/.test(line) && last !== null) {
      current.keys.set(last, `${current.keys.get(last) ?? ''} ${line.trim()}`.trim());
      continue;
    }
    const kv = /^([^=:]+)[=:](.*)$/.exec(line);
    if (kv === null) continue;
    last = (kv[1] as string).trim().toLowerCase();
    current.keys.set(last, (kv[2] as string).trim());
  }
  return sections;
}

/** The `user=` of the [eventlistener:…] whose command names configReal: undefined when no section does. */
export function stanzaUser(sections: readonly ConfSection[], configReal: string, resolvePath: (p: string) => string): string | null | undefined {
  for (const s of sections) {
    if (!s.name.startsWith('eventlistener:')) continue;
    const command = s.keys.get('command');
    if (command === undefined) continue;
    if (configArgs(command.split(/\s+/)).some((p) => resolvePath(p) === configReal)) return s.keys.get('user') ?? null;
  }
  return undefined;
}

/**
 * The listener's user when it does not run: supervisord (the parent of its processes, from /proc) is
 * asked for its config file, which with its includes is searched for the listener's section; its
 * `user=`, or supervisord's own user without one. null when any step cannot tell.
 */
export function userOfStanza(infos: readonly ProcessInfo[], configReal: string): Who | null {
  try {
    const child = infos.find((i) => i.pid > 0);
    if (child === undefined) return null;
    const ppid = /^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
    if (ppid === undefined) return null;
    const supervisord = Number(ppid);
    const argv = readFileSync(`/proc/${supervisord}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    const cwd = readlinkSync(`/proc/${supervisord}/cwd`);
    const conf = confOf(argv, cwd);
    if (conf === null) return null;
    const sections = readWithIncludes(conf);
    const user = stanzaUser(sections, configReal, (p) => realPath(resolve(cwd, p)));
    if (user === undefined) return null;
    const where = `user= of its section in ${conf}`;
    if (user === null) return userOfPid(supervisord, `no user= in its section in ${conf}: supervisord's user`);
    return userNamed(user, where);
  } catch {
    return null;
  }
}

/** `-c FILE`, `--configuration FILE`, `--configuration=FILE`, `-cFILE`; else the first of supervisord's search path there is. */
function confOf(argv: readonly string[], cwd: string): string | null {
  for (const [i, arg] of argv.entries()) {
    const next = argv[i + 1];
    if ((arg === '-c' || arg === '--configuration') && next !== undefined) return resolve(cwd, next);
    if (arg.startsWith('--configuration=')) return resolve(cwd, arg.slice('--configuration='.length));
    if (arg.startsWith('-c') && arg.length > 2 && !arg.startsWith('--')) return resolve(cwd, arg.slice(2));
  }
  for (const p of [join(cwd, 'supervisord.conf'), join(cwd, 'etc', 'supervisord.conf'), '/etc/supervisord.conf', '/etc/supervisor/supervisord.conf']) {
    try {
      readFileSync(p);
      return p;
    } catch {
      // not there: the next one
    }
  }
  return null;
}

/** The file's sections and those of its `[include] files` (globs in the file name, relative to its directory). */
function readWithIncludes(conf: string): ConfSection[] {
  const sections = parseSupervisordConf(readFileSync(conf, 'utf8'));
  const include = sections.find((s) => s.name === 'include')?.keys.get('files');
  if (include === undefined) return sections;
  const here = dirname(conf);
  const out = [...sections];
  for (const pattern of include.replaceAll('%(here)s', here).split(/\s+/).filter((p) => p !== '')) {
    const full = isAbsolute(pattern) ? pattern : join(here, pattern);
    const re = new RegExp(`^${basename(full).replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
    let names: string[];
    try {
      names = readdirSync(dirname(full)).filter((n) => re.test(n)).sort();
    } catch {
      continue;
    }
    for (const name of names) out.push(...parseSupervisordConf(readFileSync(join(dirname(full), name), 'utf8')));
  }
  return out;
}

/** A user by name, with its primary group and the groups /etc/group lists it in (supervisord's initgroups). */
function userNamed(name: string, why: string): Who | null {
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const entry = passwd.find((f) => f[0] === name) ?? passwd.find((f) => f[2] === name);
  if (entry === undefined) return null;
  const uid = Number(entry[2]);
  const gids = [Number(entry[3])];
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const f = line.split(':');
    if ((f[3] ?? '').split(',').includes(entry[0] as string)) gids.push(Number(f[2]));
  }
  return { name: entry[0] as string, uid, gids, why };
}
