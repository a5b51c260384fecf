// Where a process's servers live: the address HAProxy itself uses for each, read from `show servers state`.

import type { RuntimeApi } from '../haproxy/api.js';
import { errorText } from '../errors.js';
import { serverKey, type ServerRef } from '../haproxy/types.js';
import type { ProbeTarget } from './types.js';

/** The distinct addresses of the servers, or the first server no socket could place, and why. */
export type TargetLookup =
  | { readonly targets: ProbeTarget[] }
  | { readonly missing: string; readonly why: string };

/** Asks each socket in turn until one knows the server's address. */
export async function findTargets(apis: readonly RuntimeApi[], refs: readonly ServerRef[]): Promise<TargetLookup> {
  const found = new Map<string, ProbeTarget>();
  for (const ref of refs) {
    let target: ProbeTarget | null = null;
    const why: string[] = [];
    for (const api of apis) {
      try {
        const row = (await api.showServersState(ref.backend)).find((r) => r.server === ref.server);
        if (row === undefined) why.push(`no such server on ${api.label}`);
        else if (row.addr === '' || row.port === null || row.port <= 0) why.push(`no address on ${api.label}`);
        else {
          target = { host: row.addr, port: row.port };
          break;
        }
      } catch (err) {
        why.push(errorText(err));
      }
    }
    if (target === null) return { missing: serverKey(ref), why: why.join('; ') };
    found.set(`${target.host}:${target.port}`, target);
  }
  return { targets: [...found.values()] };
}
