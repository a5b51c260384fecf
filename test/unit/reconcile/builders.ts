// Builders of what supervisord sends and answers, for the reconcile unit tests.

import type { ProcessStateEvent } from '../../../src/supervisor/protocol.js';
import type { ProcessInfo } from '../../../src/supervisor/rpc.js';
import type { ProcessState } from '../../../src/supervisor/types.js';

/** A PROCESS_STATE_* event of process `name` in group `name`. */
export function processEvent(
  name: string,
  state: ProcessState,
  from: ProcessState | null,
  pid: number | null,
  serial: number,
  poolserial: number,
): ProcessStateEvent {
  return {
    kind: 'process-state',
    meta: { ver: '3.0', server: 'supervisor', serial, pool: 'listener', poolserial, eventname: `PROCESS_STATE_${state}` },
    group: name,
    process: name,
    state,
    fromState: from,
    pid,
    tries: null,
    expected: null,
  };
}

/** What getAllProcessInfo says of process `name` in group `name`. */
export function processInfo(name: string, state: ProcessState, pid = 0): ProcessInfo {
  return { name, group: name, state, statename: state, pid, start: 0, now: 0, description: '', spawnerr: '', exitstatus: 0 };
}
