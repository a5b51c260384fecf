// `status`: one table of every mapped process, its supervisord state and its servers on every HAProxy socket.

import { errorText } from '../errors.js';
import type { Config } from '../config/types.js';
import { readListenerFile } from './listener-file.js';
import { statsOfAll, type LiveHaproxy, type LiveSupervisor } from './live.js';
import { buildReport, renderTable, reportJson } from './report.js';

export interface StatusDeps {
  readonly config: Config;
  readonly haproxies: readonly LiveHaproxy[];
  readonly supervisor: Pick<LiveSupervisor, 'getAllProcessInfo'>;
  readonly json: boolean;
  readonly out: (text: string) => void;
  readonly now?: () => number;
}

/** Exit 0 when every server agrees with supervisord, 1 when one does not or a system did not answer. */
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
  const report = buildReport(deps.config, infos.v, stats, listener, (deps.now ?? Date.now)());
  deps.out(deps.json ? reportJson(report) : renderTable(report));
  return report.allAgree && report.sockets.every((s) => s.reachable) ? 0 : 1;
}
