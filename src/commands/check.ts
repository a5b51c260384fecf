// `check`: the config against the live systems: sockets, servers, processes, the listener and its state files.

import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { agentFindings } from '../agent/look.js';
import { errorText } from '../errors.js';
import type { Config, ProgramRule } from '../config/types.js';
import { findRule, resolveProcess, warmupSpecOf } from '../config/resolve.js';
import { versionOf, versionSupport, type ServerStateRow } from '../haproxy/replies.js';
import { serverKey } from '../haproxy/types.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec } from '../supervisor/types.js';
import type { Probe } from '../warmup/probe.js';
import { resolveRequests, type ProbeTarget } from '../warmup/spec.js';
import { isLocalUrl, locateListener, readListenerFile, realPath, type ListenerFinding, type ListenerView } from './find-listener.js';
import { currentUser, userOfPid, userOfStanza, type Who } from './listener-user.js';
import { type LiveHaproxy, type LiveSupervisor } from './live.js';

/** WARN: worth acting on, but the config is usable (exit 0), e.g. no listener runs yet. */
type Finding = { readonly verdict: 'ok' | 'FAIL' | 'WARN' | 'skip'; readonly subject: string; readonly detail: string };

interface CheckDeps {
  readonly config: Config;
  readonly haproxies: readonly LiveHaproxy[];
  /** null when neither the config nor $SUPERVISOR_SERVER_URL names supervisord. */
  readonly supervisor: Pick<LiveSupervisor, 'getAllProcessInfo'> | null;
  /** Given with --probe: every warm-up request of every running process is sent once. */
  readonly probe: Probe | null;
  readonly out: (line: string) => void;
  /** Finds the listener among supervisord's processes (default: locateListener, which reads /proc). */
  readonly locate?: (infos: readonly ProcessInfo[], stateFile: ListenerView | null) => Promise<ListenerFinding>;
  /** For the state files, judged for a user (default: the real file system). */
  readonly fs?: (who: Who) => StateFileFs;
  /** The user of the running listener's pid (default: from /proc). */
  readonly userOf?: (pid: number) => Who | null;
  /** The listener's user from its section in supervisord's config, when it does not run (default: read there). */
  readonly userOfSection?: (infos: readonly ProcessInfo[]) => Who | null;
}

const renderFinding = (f: Finding): string => `${f.verdict.padEnd(4)} ${f.subject}: ${f.detail}`;

/** Exit 0 when every finding is ok, 1 when a live check failed (config errors never get this far: exit 2). */
export async function check(deps: CheckDeps): Promise<number> {
  let failed = false;
  const report = (f: Finding) => {
    if (f.verdict === 'FAIL') failed = true;
    deps.out(renderFinding(f));
  };
  const { config } = deps;
  const programs = config.rules.length;
  const agent = config.agent === undefined ? '' : `, agent on ${config.agent.listen.length} address(es)`;
  report({
    verdict: 'ok',
    subject: `config ${config.file}`,
    detail: `${programs} [program:…]/[group:…] section(s), ${config.haproxy.sockets.length} socket(s)${agent}`,
  });

  // HAProxy: reachable, admin level, and its servers (to look names up below).
  const tables = new Map<string, ServerStateRow[]>();
  for (const h of deps.haproxies) {
    const f = await checkSocket(h);
    report(f.finding);
    if (f.rows !== null) tables.set(h.label, f.rows);
  }

  // supervisord: reachable, and every section matches a process. When it does not answer, the rest is
  // checked still; only what needs its answer is skipped.
  const infos = await supervisorInfos(deps, report);
  if (infos !== null) {
    for (const rule of config.rules) {
      const mine = infos.filter((i) => findRule(config, { group: i.group, process: i.name }) === rule);
      if (mine.length === 0) {
        report({ verdict: 'FAIL', subject: `[${rule.section}]`, detail: noProcessDetail(rule) });
        continue;
      }
      for (const info of mine) report(serverFinding(config, rule, info, tables));
    }
  }
  for (const f of await agentFindings(config, infos ?? [])) report(f);
  const listener = infos === null ? null : await listenerFinding(deps, infos);
  if (listener !== null) report(listener.finding);
  else report({ verdict: 'skip', subject: 'listener', detail: 'cannot tell without an answer from supervisord' });

  // The state files as the listener's user will find them: the running listener's, else the user= of its
  // section in supervisord's config, else check's own (said in each line).
  const who = listenerUser(deps, listener?.pid ?? null, infos) ?? currentUser();
  const fs = (deps.fs ?? realFs)(who);
  const labels = config.haproxy.sockets.map((s) => s.label);
  for (const f of checkServerStateFiles(config.haproxy.serverStateFiles, labels, fs)) report(f);
  if (config.listener.stateFile !== null) report(checkListenerStateFile(config.listener.stateFile, fs));

  if (deps.probe !== null && infos !== null) {
    for (const info of infos) {
      for (const f of await probeOnce(config, info, tables, deps.probe)) report(f);
    }
  }
  return failed ? 1 : 0;
}

function listenerUser(deps: CheckDeps, pid: number | null, infos: readonly ProcessInfo[] | null): Who | null {
  if (pid !== null) return (deps.userOf ?? ((p) => userOfPid(p, "the listener's user")))(pid);
  const url = deps.config.supervisor.url;
  if (infos === null || url === null || !isLocalUrl(url)) return null;
  const configReal = realPath(resolve(deps.config.file));
  return (deps.userOfSection ?? ((i) => userOfStanza(i, configReal)))(infos);
}

/** supervisord's processes, or null after reporting why there are none. */
async function supervisorInfos(deps: CheckDeps, report: (f: Finding) => void): Promise<ProcessInfo[] | null> {
  if (deps.supervisor === null) {
    report({ verdict: 'FAIL', subject: 'supervisord', detail: 'no url: set [supervisor] url or $SUPERVISOR_SERVER_URL' });
    return null;
  }
  const subject = `supervisord ${deps.config.supervisor.url ?? ''}`;
  try {
    const infos = await deps.supervisor.getAllProcessInfo();
    report({ verdict: 'ok', subject, detail: `reachable, ${infos.length} process(es)` });
    return infos;
  } catch (err) {
    // The error names the url already, as the subject does.
    const text = errorText(err).replace(`${subject}: `, '');
    report({ verdict: 'FAIL', subject, detail: `${text}${supervisorHint(text)}` });
    return null;
  }
}

/** What to look at, for the errors an unreachable supervisord gives. */
function supervisorHint(text: string): string {
  if (/ENOENT|ECONNREFUSED/.test(text)) {
    return ' (is supervisord running, and is [supervisor] url its [unix_http_server] file or [inet_http_server] port?)';
  }
  if (/EACCES/.test(text)) {
    return " (this user may not open supervisord's socket: see chown and chmod in its [unix_http_server])";
  }
  if (/no answer within/.test(text)) return ' (supervisord is busy or stalled; raise [supervisor] timeout only if it is busy)';
  return '';
}

/** Whether a listener runs for this config: WARN, not FAIL, since check is run before the listener is set up too. */
async function listenerFinding(deps: CheckDeps, infos: readonly ProcessInfo[]): Promise<{ finding: Finding; pid: number | null }> {
  const { config } = deps;
  const stateFile = config.listener.stateFile === null ? null : await readListenerFile(config.listener.stateFile);
  const locate = deps.locate ?? ((i, l) => locateListener(config, i, l));
  const found = await locate(infos, stateFile);
  if (found.running === true) return { finding: { verdict: 'ok', subject: 'listener', detail: found.detail }, pid: found.pid };
  if (found.running === null) return { finding: { verdict: 'skip', subject: 'listener', detail: found.detail }, pid: null };
  return {
    finding: {
      verdict: 'WARN',
      subject: 'listener',
      detail: `not running: ${found.detail} (add its [eventlistener:…] section, then supervisorctl reread and update)`,
    },
    pid: null,
  };
}

async function checkSocket(h: LiveHaproxy): Promise<{ finding: Finding; rows: ServerStateRow[] | null }> {
  const subject = `haproxy ${h.label}`;
  let version = '';
  let support: ReturnType<typeof versionSupport>;
  try {
    const info = await h.showInfo();
    support = versionSupport(versionOf(info));
    version = `HAProxy ${info['Version'] ?? '?'}${support.supported ? ', supported' : ''}, pid ${info['Pid'] ?? '?'}`;
  } catch (err) {
    return { finding: { verdict: 'FAIL', subject, detail: `unreachable: ${errorText(err)}` }, rows: null };
  }
  let rows: ServerStateRow[] | null = null;
  try {
    rows = await h.showServersState();
  } catch (err) {
    return { finding: { verdict: 'FAIL', subject, detail: `show servers state failed: ${errorText(err)}` }, rows: null };
  }
  const level = await levelOf(h);
  if (level !== 'admin') {
    return {
      finding: {
        verdict: 'FAIL',
        subject,
        detail: `level ${level}: the listener needs level admin (stats socket … level admin) (${version})`,
      },
      rows,
    };
  }
  if (!support.supported) {
    // Older than 2.2 is not supported; a newer or unnamed version is only untested: it does not fail the check.
    const verdict = support.why === 'older' ? 'FAIL' : 'WARN';
    return { finding: { verdict, subject, detail: `reachable, level admin (${version}): ${support.reason}` }, rows };
  }
  return { finding: { verdict: 'ok', subject, detail: `reachable, level admin (${version})` }, rows };
}

/**
 * The socket's level without changing anything: a bare `set server` is refused before parsing below admin
 * ("Permission denied") and is a usage error at admin; `show sess 0x1` tells operator from user the same way.
 */
export async function levelOf(h: Pick<LiveHaproxy, 'send'>): Promise<'admin' | 'operator' | 'user'> {
  const set = await h.send('set server');
  if (!set.startsWith('Permission denied')) return 'admin';
  const sess = await h.send('show sess 0x1');
  return sess.startsWith('Permission denied') ? 'user' : 'operator';
}

function noProcessDetail(rule: ProgramRule): string {
  const m = rule.match;
  if (m.kind === 'group') return `supervisord has no group '${m.group}'`;
  return m.group === null
    ? `supervisord has no process '${m.process}' (in any group)`
    : `supervisord has no process '${m.group}:${m.process}'`;
}

function serverFinding(config: Config, rule: ProgramRule, info: ProcessInfo, tables: ReadonlyMap<string, ServerStateRow[]>): Finding {
  const name = { group: info.group, process: info.name };
  const subject = `[${rule.section}] ${namespec(name)}`;
  const resolved = resolveProcess(config, name);
  if (resolved === null) return { verdict: 'FAIL', subject, detail: 'no rule applies (internal)' };
  if (resolved.kind === 'invalid') return { verdict: 'FAIL', subject, detail: resolved.reason };
  const problems: string[] = [];
  for (const [socket, rows] of tables) {
    for (const ref of resolved.servers) {
      if (rows.some((r) => r.backend === ref.backend && r.server === ref.server)) continue;
      problems.push(
        rows.some((r) => r.backend === ref.backend)
          ? `no server ${serverKey(ref)} on ${socket}`
          : `no backend ${ref.backend} on ${socket}`,
      );
    }
  }
  const servers = resolved.servers.map(serverKey).join(', ');
  if (problems.length > 0) return { verdict: 'FAIL', subject, detail: problems.join('; ') };
  return { verdict: 'ok', subject, detail: `${servers} found on ${tables.size} socket(s), ${info.statename}` };
}

async function probeOnce(
  config: Config,
  info: ProcessInfo,
  tables: ReadonlyMap<string, ServerStateRow[]>,
  probe: Probe,
): Promise<Finding[]> {
  const name = { group: info.group, process: info.name };
  const resolved = resolveProcess(config, name);
  if (resolved === null || resolved.kind !== 'mapped') return [];
  const spec = warmupSpecOf(resolved.rule);
  const subject = `warm-up ${namespec(name)}`;
  if (spec === null) return [{ verdict: 'skip', subject, detail: 'no warm-up configured (ready on RUNNING)' }];
  if (info.state !== 'RUNNING') return [{ verdict: 'skip', subject, detail: `process is ${info.state}` }];
  // `address` wins over what HAProxy shows, as in the listener's own warm-up.
  const targets: ProbeTarget[] = spec.address === undefined ? [] : [spec.address];
  for (const ref of spec.address === undefined ? resolved.servers : []) {
    const row = [...tables.values()].flat().find((r) => r.backend === ref.backend && r.server === ref.server);
    if (row !== undefined && row.port !== null) targets.push({ host: row.addr, port: row.port });
  }
  const unique = targets.filter((t, i) => targets.findIndex((u) => u.host === t.host && u.port === t.port) === i);
  const findings: Finding[] = [];
  for (const url of resolveRequests(spec, unique)) {
    const r = await probe({ url, headers: spec.headers, timeoutMs: spec.timeoutMs }, spec.expect);
    const ms = Math.round(r.ms);
    // A running instance is warm: an answer slower than max_time would fail the listener's warm-up.
    const slow = r.ok && spec.maxTimeMs !== null && r.ms > spec.maxTimeMs;
    findings.push(
      !r.ok
        ? { verdict: 'FAIL', subject, detail: `${url.href} → ${r.error} after ${ms} ms` }
        : slow
          ? { verdict: 'WARN', subject, detail: `${url.href} → ${r.status} in ${ms} ms, slower than max_time ${spec.maxTimeMs} ms: the warm-up would not pass it` }
          : { verdict: 'ok', subject, detail: `${url.href} → ${r.status} in ${ms} ms` },
    );
  }
  return findings;
}

// ---- the state files: whether the listener's user can keep each one (I/O injected) ----------------------

/** What the check needs of the file system, judged for one user. */
export interface StateFileFs {
  /** null when nothing is at path. */
  kind(path: string): 'file' | 'dir' | 'other' | null;
  writable(path: string): boolean;
  readonly user: string;
}

/** The real file system, with permissions judged for `who` from each path's owner, group and mode. */
const realFs = (who: Who): StateFileFs => ({
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
function checkListenerStateFile(path: string | null, fs: StateFileFs): Finding {
  const subject = 'listener state_file';
  if (path === null) return { verdict: 'skip', subject, detail: 'not set: status cannot tell a warm-up in progress from one that failed' };
  return { subject, ...fileVerdict(path, fs) };
}
