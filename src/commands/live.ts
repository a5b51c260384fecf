// What the operator commands need of the live systems, as interfaces (the real clients satisfy them).

import { errorText } from '../errors.js';
import type { ServerStateRow } from '../haproxy/replies.js';
import type { AdminState, ServerRef } from '../haproxy/types.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import type { ServerStat, SocketStats } from './report.js';

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
