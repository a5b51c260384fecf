// supervisord's side of the wire: event frames (len in code points) and in-step PROCESS_STATE cycles per program.

import { frame as supportFrame, type HeaderFields } from '../test/support/frames.js';

/** A process as supervisord names it; group = process for a plain [program:x]. */
export interface ProgramName {
  readonly group: string;
  readonly process: string;
}

type State = 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED';

/** The cycle `supervisorctl restart` walks a process through, one event per step. */
const NEXT: Record<State, State> = { RUNNING: 'STOPPING', STOPPING: 'STOPPED', STOPPED: 'STARTING', STARTING: 'RUNNING' };

/** One frame as supervisord writes it (len in code points: see test/support/frames.ts). */
export function frame(header: HeaderFields & { readonly eventname: string }, payload: string): Buffer {
  const { eventname, ...fields } = header;
  return Buffer.from(supportFrame(eventname, payload, fields), 'utf8');
}

interface Tracked {
  state: State;
  pid: number;
}

/**
 * Hands out PROCESS_STATE frames the way one supervisord would: serial and poolserial counting up by one,
 * each program walking RUNNING → STOPPING → STOPPED → STARTING → RUNNING with the right from_state and pids,
 * so a listener that checks events against supervisord's answers never finds them out of step.
 */
export class Supervisor {
  private serial = 0;
  private readonly procs = new Map<string, Tracked>();
  private nextPid = 10_000;

  constructor(
    programs: readonly ProgramName[],
    private readonly pool = 'listener',
  ) {
    for (const p of programs) this.procs.set(key(p), { state: 'RUNNING', pid: this.nextPid++ });
  }

  /** What getAllProcessInfo would answer now. */
  snapshot(): { name: string; group: string; state: State; pid: number }[] {
    return [...this.procs.entries()].map(([k, t]) => {
      const [group, name] = k.split('\0') as [string, string];
      return { name, group, state: t.state, pid: t.state === 'RUNNING' || t.state === 'STOPPING' ? t.pid : 0 };
    });
  }

  /** The state the program is in (after the last frame handed out for it). */
  stateOf(p: ProgramName): State {
    return this.tracked(p).state;
  }

  /** The next step of the program's cycle, as a frame. */
  step(p: ProgramName): Buffer {
    const t = this.tracked(p);
    const from = t.state;
    const to = NEXT[from];
    const base = `processname:${p.process} groupname:${p.group} from_state:${from}`;
    let payload: string;
    if (to === 'STARTING') {
      payload = `${base} tries:0`;
    } else {
      if (to === 'RUNNING') t.pid = this.nextPid++;
      payload = `${base} pid:${t.pid}`;
    }
    t.state = to;
    const serial = this.serial++;
    return frame(
      { ver: '3.0', server: 'supervisor', serial, pool: this.pool, poolserial: serial, eventname: `PROCESS_STATE_${to}` },
      payload,
    );
  }

  private tracked(p: ProgramName): Tracked {
    const t = this.procs.get(key(p));
    if (t === undefined) throw new Error(`unknown program ${p.group}:${p.process}`);
    return t;
  }
}

const key = (p: ProgramName): string => `${p.group}\0${p.process}`;

/** A plain `[program:name]`: supervisord puts it in a group of the same name. */
export const program = (name: string): ProgramName => ({ group: name, process: name });
