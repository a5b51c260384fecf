// The last-healthy-server guard of a rolling restart (pure): never take out a backend's last server in service.

import type { ServerRef } from '../haproxy/types.js';
import { inService } from './agreement.js';
import type { ServerStat } from './report.js';

/**
 * For each backend of `refs`, the servers outside `refs` that are in service on this socket. Returns one
 * message per backend that would be left with none; empty when taking `refs` out is safe.
 */
export function lastHealthyViolations(refs: readonly ServerRef[], rows: readonly ServerStat[], socket: string): string[] {
  const out: string[] = [];
  for (const backend of new Set(refs.map((r) => r.backend))) {
    const ours = new Set(refs.filter((r) => r.backend === backend).map((r) => r.server));
    const others = rows.filter((r) => r.proxy === backend && !ours.has(r.server));
    if (others.some((r) => inService(r.status))) continue;
    const seen = others.map((r) => `${r.server} ${r.status}`).join(', ');
    out.push(
      `backend ${backend} on ${socket} would have no server in service` +
        (seen === '' ? ' (it has no other server)' : ` (others: ${seen})`),
    );
  }
  return out;
}
