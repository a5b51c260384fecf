// `status`: one table of every mapped process, its supervisord state and its servers on every HAProxy socket.

import { askAll, mappedServers } from '../agent/look.js';
import { errorText } from '../errors.js';
import type { Config } from '../config/types.js';
import { readListenerFile } from './listener-file.js';
import { locateListener } from './locate-listener.js';
import type { ListenerFinding } from './find-listener.js';
import { statsOfAll, type LiveHaproxy, type LiveSupervisor } from './live.js';
import { buildReport, renderTable, reportJson, type ListenerView } from './report.js';
import type { ProcessInfo } from '../supervisor/rpc.js';

export interface StatusDeps {
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
    deps.out(deps.json ? `${JSON.stringify({ error: `supervisord: ${infos.error}` })}\n` : `supervisord: ${infos.error}\n`);
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
