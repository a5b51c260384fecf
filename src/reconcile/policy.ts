// The state mapping as a table: what each supervisord state asks of the process's servers.

import type { OnStopping } from '../config/types.js';
import type { AdminState } from '../haproxy/types.js';
import type { ProcessState } from '../supervisor/types.js';

/**
 * - `maint`: out of rotation at once.
 * - `on_stopping`: the rule's `on_stopping` (maint by default, drain where configured).
 * - `warm_then_ready`: stay in maint, probe, and only then `ready` (`maint → ready` is UP at once,
 *   without a health check, so the probe must pass first). From STARTING: supervisord says RUNNING only
 *   `startsecs` after the start, and an instance is in service as soon as it is warm.
 * - `keep_warming`: the warm-up of this start goes on, or has decided already; a process whose STARTING
 *   the listener never saw is warmed like at STARTING.
 */
export type Action = 'maint' | 'on_stopping' | 'warm_then_ready' | 'keep_warming';

export const POLICY: Readonly<Record<ProcessState, Action>> = {
  STOPPED: 'maint',
  STARTING: 'warm_then_ready',
  RUNNING: 'keep_warming',
  BACKOFF: 'maint',
  STOPPING: 'on_stopping',
  EXITED: 'maint',
  FATAL: 'maint',
  UNKNOWN: 'maint',
};

/** The admin state to hold while the action is in progress (a warm-up holds maint). */
export function immediateState(action: Action, onStopping: OnStopping): AdminState {
  return action === 'on_stopping' ? onStopping : 'maint';
}

const TIGHTNESS: Readonly<Record<AdminState, number>> = { ready: 0, drain: 1, maint: 2 };

/** Whether `a` lets more traffic reach the server than `b` (ready is looser than drain, drain than maint). */
export function looser(a: AdminState, b: AdminState): boolean {
  return TIGHTNESS[a] < TIGHTNESS[b];
}
