// `status`: one table of every mapped process, its supervisord state and its servers on every HAProxy socket.

import { askAll, mappedServers } from '../agent/look.js';
import { errorText } from '../errors.js';
import type { Config } from '../config/types.js';

import { locateListener, readListenerFile, type ListenerFinding, type ListenerView } from './find-listener.js';
import { statsOfAll, type LiveHaproxy, type LiveSupervisor, type SocketStats } from './live.js';
import { buildReport, columns, renderTable, reportJson } from './report.js';
import type { ProcessInfo } from '../supervisor/rpc.js';

interface StatusDeps {
  readonly config: Config;
  readonly haproxies: readonly LiveHaproxy[];
  readonly supervisor: Pick<LiveSupervisor, 'getAllProcessInfo'>;
  readonly json: boolean;
  readonly out: (text: string) => void;
  readonly now?: () => number;
  /** Finds the listener among supervisord's processes (default: locateListener, which reads /proc). */
  readonly locate?: (infos: readonly ProcessInfo[], stateFile: ListenerView | null) => Promise<ListenerFinding>;
}

/**
 * Exit 0 when every server agrees with supervisord, 1 when one does not, a system did not answer, or no
 * listener runs for this config (monitoring runs status: a dead listener means nothing follows restarts).
 */
export async function status(deps: StatusDeps): Promise<number> {
  const stateFile = deps.config.listener.stateFile;
  const [infos, stats, listener] = await Promise.all([
    deps.supervisor.getAllProcessInfo().then(
      (v) => ({ ok: true as const, v }),
      (err: unknown) => ({ ok: false as const, error: errorText(err) }),
    ),
    statsOfAll(deps.haproxies),
    stateFile === null ? null : readListenerFile(stateFile),
  ]);
  if (!infos.ok) {
    // Without supervisord's answer there is no process to show, but HAProxy's side is still worth seeing.
    const servers = haproxyView(deps.config, stats);
    const sockets = [...stats].map(([socket, st]) => ({ socket, reachable: st.ok, error: st.ok ? null : st.error }));
    if (deps.json) {
      deps.out(`${JSON.stringify({ error: `supervisord: ${infos.error}`, sockets, servers })}\n`);
    } else {
      const table = [['SERVER', 'SOCKET', 'HAPROXY', 'SESS'], ...servers.map((r) => [`${r.backend}/${r.server}`, r.socket, r.status, String(r.sessions)])];
      const lines = [
        `supervisord: ${infos.error}`,
        "HAProxy alone (no answer from supervisord): the servers of the config's backends",
        ...columns(table),
        ...sockets.filter((x) => !x.reachable).map((x) => `${x.socket}: ${x.error ?? ''}`),
      ];
      deps.out(`${lines.join('\n')}\n`);
    }
    return 1;
  }
  const locate = deps.locate ?? ((i, l) => locateListener(deps.config, i, l));
  const finding = await locate(infos.v, listener);
  // The agent is asked on its first address, as an HAProxy would ask it for each server.
  const agentAddress = deps.config.agent?.listen[0];
  const agent = agentAddress === undefined ? null : await askAll(agentAddress, mappedServers(deps.config, infos.v));
  const report = buildReport(deps.config, infos.v, stats, listener, (deps.now ?? Date.now)(), finding, agent);
  deps.out(deps.json ? reportJson(report) : renderTable(report));
  return report.allAgree && report.sockets.every((s) => s.reachable) && finding.running !== false ? 0 : 1;
}

/** Every server of every backend the config names (templates' backends), as each socket shows it. */
function haproxyView(
  config: Config,
  stats: ReadonlyMap<string, SocketStats>,
): { backend: string; server: string; socket: string; status: string; sessions: number }[] {
  const backends = new Set(config.rules.flatMap((r) => r.servers.map((t) => t.split('/')[0] ?? '')).filter((b) => !b.includes('%(')));
  const out: { backend: string; server: string; socket: string; status: string; sessions: number }[] = [];
  for (const [socket, st] of stats) {
    if (!st.ok) continue;
    for (const row of st.rows) {
      if (backends.has(row.proxy)) out.push({ backend: row.proxy, server: row.server, socket, status: row.status, sessions: row.scur });
    }
  }
  return out;
}
