// Where a process's servers live: the address HAProxy itself uses for each, read from `show servers state`.

import { adminStateOf } from '../haproxy/replies.js';
import type { AdminState, ServerRef } from '../haproxy/types.js';
import type { ProbeTarget } from '../warmup/types.js';
import type { RuntimeApi } from './applier.js';

/**
 * The distinct addresses of `refs`, asking each socket in turn until one knows the server.
 * Returns null when no socket answered for some server (caller retries until its deadline).
 */
export async function findTargets(
  apis: readonly RuntimeApi[],
  refs: readonly ServerRef[],
): Promise<ProbeTarget[] | null> {
  const found = new Map<string, ProbeTarget>();
  for (const ref of refs) {
    let target: ProbeTarget | null = null;
    for (const api of apis) {
      try {
        const row = (await api.showServersState(ref.backend)).find((r) => r.server === ref.server);
        if (row !== undefined && row.addr !== '' && row.port !== null && row.port > 0) {
          target = { host: row.addr, port: row.port };
          break;
        }
      } catch {
        // this socket is down or does not know the backend: try the next one
      }
    }
    if (target === null) return null;
    found.set(`${target.host}:${target.port}`, target);
  }
  return [...found.values()];
}

/** The admin state of every ref on every socket that answers; unreachable sockets are left out. */
export async function readAdminStates(
  apis: readonly RuntimeApi[],
  refs: readonly ServerRef[],
): Promise<AdminState[]> {
  const states: AdminState[] = [];
  for (const api of apis) {
    const backends = [...new Set(refs.map((r) => r.backend))];
    for (const backend of backends) {
      try {
        const rows = await api.showServersState(backend);
        for (const ref of refs.filter((r) => r.backend === backend)) {
          const row = rows.find((r) => r.server === ref.server);
          if (row !== undefined) states.push(adminStateOf(row.adminState));
        }
      } catch {
        // unreachable or unknown backend: nothing to read here
      }
    }
  }
  return states;
}
