// supervisord's process vocabulary, spelled as in its events and XML-RPC answers.

export const PROCESS_STATES = [
  'STOPPED',
  'STARTING',
  'RUNNING',
  'BACKOFF',
  'STOPPING',
  'EXITED',
  'FATAL',
  'UNKNOWN',
] as const;

export type ProcessState = (typeof PROCESS_STATES)[number];

/** State codes of getProcessInfo / getAllProcessInfo. */
export const STATE_CODES: Readonly<Record<number, ProcessState>> = {
  0: 'STOPPED',
  10: 'STARTING',
  20: 'RUNNING',
  30: 'BACKOFF',
  40: 'STOPPING',
  100: 'EXITED',
  200: 'FATAL',
  1000: 'UNKNOWN',
};

/** One process as supervisord names it: group and process (equal for a plain [program:x]). */
export interface ProcessName {
  readonly group: string;
  readonly process: string;
}

/** supervisord's RPC namespec: `group:process`. */
export const namespec = (p: ProcessName): string => `${p.group}:${p.process}`;
