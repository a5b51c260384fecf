// Judging HAProxy's status of a server (pure): does it agree with supervisord, is its backend left one in service.

import { statusWord } from '../haproxy/replies.js';
import type { ServerRef } from '../haproxy/types.js';
import type { ProcessState } from '../supervisor/types.js';
import type { ServerStat } from './live.js';

export type Agreement = 'yes' | 'no' | 'unknown';

export interface Verdict {
  readonly agrees: Agreement;
  /** Why not, in a few words, for the status table. */
  readonly note: string;
}

/** Taking traffic: UP (possibly `UP 1/2`) or `no check` (a server without health checks that is ready). */
export const inService = (status: string): boolean => {
  const w = statusWord(status);
  return w === 'UP' || w === 'no check';
};

/**
 * RUNNING should be in service; STOPPING may be in maint or drain (on_stopping); every other state should be
 * in maint. A RUNNING process in maint is the listener warming it up, a failed warm-up, or an operator's hand.
 */
export function agreement(state: ProcessState | null, status: string | null): Verdict {
  if (state === null) return { agrees: 'unknown', note: 'not in supervisord' };
  if (status === null) return { agrees: 'unknown', note: 'socket unreachable' };
  const word = statusWord(status);
  if (state === 'RUNNING') {
    if (inService(status)) return { agrees: 'yes', note: '' };
    if (word === 'MAINT') return { agrees: 'no', note: 'running but in maint: warming up, warm-up failed, or set by hand' };
    if (word === 'DRAIN') return { agrees: 'no', note: 'running but draining' };
    if (word === 'DOWN') return { agrees: 'no', note: 'running but DOWN by health check' };
    return { agrees: 'no', note: `running but ${status}` };
  }
  if (word === 'MAINT') return { agrees: 'yes', note: '' };
  if (state === 'STOPPING' && word === 'DRAIN') return { agrees: 'yes', note: '' };
  return { agrees: 'no', note: `${state} but still ${status}` };
}

/**
 * The last-healthy-server guard of a rolling restart: never take out a backend's last server in service.
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
