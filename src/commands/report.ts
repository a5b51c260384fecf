// The status report (pure): each mapped process, its state and its servers on every socket, as a table or JSON.

import type { AgentView } from '../agent/look.js';
import type { Config } from '../config/types.js';
import { resolveProcess } from '../config/resolve.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec, type ProcessState } from '../supervisor/types.js';
import { serverKey, type ServerRef } from '../haproxy/types.js';
import type { ProcessSnapshot } from '../reconcile/snapshot.js';
import { agreement, inService, type Agreement, type Verdict } from './agreement.js';
import type { ListenerFinding, ListenerView } from './find-listener.js';
import type { SocketStats } from './live.js';

interface ServerView {
  readonly backend: string;
  readonly server: string;
  readonly socket: string;
  /** HAProxy's `status` column; null when the socket did not answer or has no such server. */
  readonly status: string | null;
  readonly sessions: number | null;
  readonly agrees: Agreement;
  readonly note: string;
}

interface ProcessView {
  readonly name: string;
  readonly group: string;
  readonly process: string;
  readonly state: ProcessState;
  readonly pid: number;
  /** Seconds since start while RUNNING, else null. */
  readonly uptimeS: number | null;
  /** The listener's warm-up record for it; null without a state file or when the listener has none. */
  readonly warmup: ProcessSnapshot | null;
  readonly servers: readonly ServerView[];
}

interface StatusReport {
  readonly processes: readonly ProcessView[];
  readonly sockets: readonly { readonly socket: string; readonly reachable: boolean; readonly error: string | null }[];
  readonly listener: ListenerView | null;
  /** Whether a listener for this config runs under supervisord; null when not looked for. */
  readonly listenerProcess: ListenerFinding | null;
  /** When the report was made (epoch ms), to show how long ago warm-ups changed. */
  readonly now: number;
  /** Every server on every socket agrees with supervisord. */
  readonly allAgree: boolean;
}

export function buildReport(
  config: Config,
  infos: readonly ProcessInfo[],
  stats: ReadonlyMap<string, SocketStats>,
  listener: ListenerView | null = null,
  now = 0,
  listenerProcess: ListenerFinding | null = null,
  agent: AgentView | null = null,
): StatusReport {
  const processes: ProcessView[] = [];
  for (const info of infos) {
    const name = { group: info.group, process: info.name };
    const resolved = resolveProcess(config, name);
    if (resolved === null || resolved.kind !== 'mapped') continue;
    const warmup = listener?.snapshot?.processes[namespec(name)] ?? null;
    const servers: ServerView[] = [];
    for (const ref of resolved.servers) {
      for (const [socket, s] of stats) {
        const row = s.ok ? s.rows.find((r) => r.proxy === ref.backend && r.server === ref.server) : undefined;
        const status = row?.status ?? null;
        const verdict =
          s.ok && row === undefined
            ? { agrees: 'no' as const, note: 'no such server in haproxy' }
            : explain(agreement(info.state, status), info.state, status, warmup);
        servers.push({
          backend: ref.backend,
          server: ref.server,
          socket,
          status,
          sessions: row?.scur ?? null,
          ...verdict,
        });
      }
    }
    if (agent !== null) for (const ref of resolved.servers) servers.push(agentRow(agent, ref, info.state, warmup));
    processes.push({
      name: namespec(name),
      group: info.group,
      process: info.name,
      state: info.state,
      pid: info.pid,
      uptimeS: info.state === 'RUNNING' && info.start > 0 ? Math.max(0, info.now - info.start) : null,
      warmup,
      servers,
    });
  }
  const sockets = [...stats].map(([socket, s]) => ({ socket, reachable: s.ok, error: s.ok ? null : s.error }));
  if (agent !== null) {
    const failed = [...agent.replies.values()].find((r) => !r.ok);
    sockets.push({ socket: agent.label, reachable: failed === undefined, error: failed?.ok === false ? failed.error : null });
  }
  const allAgree = processes.every((p) => p.servers.every((s) => s.agrees === 'yes'));
  return { processes, sockets, allAgree, listener, listenerProcess, now };
}

/** The agent's answer for a server, judged like the HAProxy state it makes: ready is UP, maint MAINT, drain DRAIN. */
function agentRow(agent: AgentView, ref: ServerRef, state: ProcessState, warmup: ProcessSnapshot | null): ServerView {
  const r = agent.replies.get(serverKey(ref));
  const answer = r?.ok === true ? r.answer : null;
  const base = { backend: ref.backend, server: ref.server, socket: agent.label, status: answer, sessions: null };
  if (answer !== null && answer.startsWith('#')) return { ...base, agrees: 'unknown', note: 'the agent has no decision for it' };
  const as = answer === 'ready' ? 'UP' : answer === 'maint' ? 'MAINT' : answer === 'drain' ? 'DRAIN' : answer;
  return { ...base, ...explain(agreement(state, as), state, as, warmup) };
}

/**
 * With the listener's record, a running server in maint is no longer a riddle, and a starting one in service
 * is one whose warm-up passed before RUNNING (the listener warms from STARTING), or a stopgap.
 */
function explain(v: Verdict, state: ProcessState, status: string | null, warmup: ProcessSnapshot | null): Verdict {
  if (v.agrees !== 'no' || status === null || warmup === null) return v;
  if (state === 'STARTING' && inService(status)) {
    const ready = warmup.warmup === 'passed' || warmup.warmup === 'forced-ready' || warmup.warmup === 'stopgap';
    return ready ? { agrees: 'yes', note: '' } : v;
  }
  if (state !== 'RUNNING' || !status.startsWith('MAINT')) return v;
  if (warmup.warmup === 'warming') return { agrees: 'no', note: 'warming up' };
  if (warmup.warmup === 'deadline' || warmup.warmup === 'failed') {
    return { agrees: 'no', note: `warm-up failed: ${warmup.lastError ?? 'deadline passed'}` };
  }
  return { agrees: 'no', note: 'running but in maint: set by hand, or not yet seen by the listener' };
}

/** The WARM-UP column: the outcome and how long ago. */
export function formatWarmup(w: ProcessSnapshot | null, now: number): string {
  if (w === null) return '-';
  const ago = w.warmupAt === null ? '' : ` ${formatUptime(Math.max(0, Math.round((now - w.warmupAt) / 1000)))}`;
  switch (w.warmup) {
    case 'none':
      return 'none';
    case 'warming':
      return `warming${ago}`;
    case 'stopgap':
      return `ready early${ago} (backend had no warm server)`;
    case 'passed':
      return `passed${ago} ago`;
    case 'deadline':
      return `failed${ago} ago`;
    case 'failed':
      return `error${ago} ago`;
    case 'forced-ready':
      return `forced ready${ago} ago`;
    case 'cancelled':
      return `cancelled${ago} ago`;
  }
}

/** `1d 2h`, `3h 4m`, `5m 6s`, `7s`: uptime at a glance. */
export function formatUptime(s: number | null): string {
  if (s === null) return '-';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** A plain-text table: one row per server per socket; process columns on its first row only. */
export function renderTable(report: StatusReport): string {
  const withWarmup = report.listener !== null;
  const header = ['PROCESS', 'STATE', 'UPTIME', ...(withWarmup ? ['WARM-UP'] : []), 'SERVER', 'SOCKET', 'HAPROXY', 'SESS', 'AGREES'];
  const rows: string[][] = [];
  for (const p of report.processes) {
    const first = [p.name, p.state, formatUptime(p.uptimeS), ...(withWarmup ? [formatWarmup(p.warmup, report.now)] : [])];
    if (p.servers.length === 0) rows.push([...first, '-', '-', '-', '-', '-']);
    p.servers.forEach((s, i) => {
      rows.push([
        ...(i === 0 ? first : first.map(() => '')),
        `${s.backend}/${s.server}`,
        s.socket,
        s.status ?? '?',
        s.sessions === null ? '-' : String(s.sessions),
        s.agrees === 'yes' ? 'yes' : `${s.agrees}${s.note === '' ? '' : ` (${s.note})`}`,
      ]);
    });
  }
  const out = columns([header, ...rows]);
  for (const s of report.sockets) {
    if (!s.reachable) out.push(`haproxy ${s.socket}: unreachable: ${s.error ?? ''}`);
  }
  if (report.processes.length === 0) out.push('(no supervisord process is mapped by this config)');
  const l = report.listener;
  const p = report.listenerProcess;
  // Not running: the state file's story is part of p.detail, said once.
  if (p !== null && p.running === false) out.push(`listener: NOT RUNNING: ${p.detail}`);
  else {
    if (p !== null) out.push(`listener: ${p.detail}`);
    if (l !== null && l.error !== null) out.push(`listener state file ${l.stateFile}: ${l.error}`);
    else if (l !== null && l.snapshot !== null && !l.running) {
      out.push(`listener state file ${l.stateFile}: written by pid ${l.snapshot.pid}, which is not running: WARM-UP may be stale`);
    }
  }
  return out.join('\n') + '\n';
}

/** Rows as aligned text columns, two spaces apart; the last column is not padded. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** The report for scripts: stable keys, snake_case like the logs. */
export function reportJson(report: StatusReport): string {
  return (
    JSON.stringify(
      {
        all_agree: report.allAgree,
        sockets: report.sockets,
        listener:
          report.listener === null
            ? null
            : {
                state_file: report.listener.stateFile,
                pid: report.listener.snapshot?.pid ?? null,
                running: report.listener.running,
                error: report.listener.error,
              },
        listener_process:
          report.listenerProcess === null
            ? null
            : {
                running: report.listenerProcess.running,
                names: report.listenerProcess.running === true ? report.listenerProcess.names : [],
                pid: report.listenerProcess.running === true ? report.listenerProcess.pid : null,
                detail: report.listenerProcess.detail,
              },
        processes: report.processes.map((p) => ({
          name: p.name,
          group: p.group,
          process: p.process,
          state: p.state,
          pid: p.pid,
          uptime_s: p.uptimeS,
          warmup:
            p.warmup === null
              ? null
              : {
                  status: p.warmup.warmup,
                  since_s: p.warmup.warmupAt === null ? null : Math.max(0, Math.round((report.now - p.warmup.warmupAt) / 1000)),
                  tries: p.warmup.tries,
                  last_error: p.warmup.lastError,
                },
          servers: p.servers.map((s) => ({
            backend: s.backend,
            server: s.server,
            socket: s.socket,
            status: s.status,
            sessions: s.sessions,
            agrees: s.agrees,
            note: s.note,
          })),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
