// What the operator commands need of the live systems, as interfaces, and the real clients behind them.

import type { Config } from '../config/types.js';
import { errorText } from '../errors.js';
import { HaproxyClient } from '../haproxy/client.js';
import type { ServerStateRow, StatRow } from '../haproxy/replies.js';
import type { AdminState, ServerRef } from '../haproxy/types.js';
import { SupervisorRpc, type ProcessInfo } from '../supervisor/rpc.js';

/** What a command needs of one server's `show stat` row. */
export type ServerStat = Pick<StatRow, 'proxy' | 'server' | 'status' | 'scur' | 'qcur'>;

export type SocketStats = { readonly ok: true; readonly rows: readonly ServerStat[] } | { readonly ok: false; readonly error: string };

/** HaproxyClient satisfies it. */
export interface LiveHaproxy {
  readonly label: string;
  /** One raw command on its own connection. */
  send(command: string): Promise<string>;
  setServerState(ref: ServerRef, state: AdminState): Promise<void>;
  /** Every server row of `show stat`. */
  showStat(): Promise<ServerStat[]>;
  showInfo(): Promise<Record<string, string>>;
  showServersState(backend?: string): Promise<ServerStateRow[]>;
}

export interface LiveSupervisor {
  getAllProcessInfo(): Promise<ProcessInfo[]>;
  getProcessInfo(namespec: string): Promise<ProcessInfo>;
  startProcess(namespec: string, wait?: boolean): Promise<boolean>;
  stopProcess(namespec: string, wait?: boolean): Promise<boolean>;
}

/** `show stat` of every socket at once; an unreachable socket is reported, not thrown. */
export async function statsOfAll(haproxies: readonly LiveHaproxy[]): Promise<Map<string, SocketStats>> {
  const results = await Promise.all(
    haproxies.map(async (h): Promise<[string, SocketStats]> => {
      try {
        return [h.label, { ok: true, rows: await h.showStat() }];
      } catch (err) {
        return [h.label, { ok: false, error: errorText(err) }];
      }
    }),
  );
  return new Map(results);
}

/** One HaproxyClient per socket, for the listener and the operator commands alike. */
export function liveHaproxies(config: Config): HaproxyClient[] {
  return config.haproxy.sockets.map((address) => new HaproxyClient(address, { timeoutMs: config.haproxy.timeoutMs }));
}

/**
 * supervisord's XML-RPC client, or null when no url is known. The listener's calls are bounded by
 * [supervisor] timeout; an operator command passes more, since restart's startProcess waits for startsecs.
 */
export function liveSupervisor(config: Config, minTimeoutMs = 0): SupervisorRpc | null {
  const { url, username, password, timeoutMs } = config.supervisor;
  return url === null ? null : new SupervisorRpc({ url, username, password, timeoutMs: Math.max(timeoutMs, minTimeoutMs) });
}
