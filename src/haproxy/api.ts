// The part of an HAProxy stats socket the listener needs: change server states, read them back, spot restarts.

import type { ServerStateRow } from './replies.js';
import type { AdminState, ServerRef } from './types.js';

/** `show servers state` of every backend: the rows, and HAProxy's text as is (its server-state-file format). */
export interface ServersStateDump {
  readonly text: string;
  readonly rows: readonly ServerStateRow[];
}

export interface RuntimeApi {
  /** How logs name the socket. */
  readonly label: string;
  /**
   * Several changes on as few connections as fit, every backend's state read back on the last: per change
   * null (accepted) or HAProxy's refusal text, and the read-back. Throws when HAProxy was not reached.
   */
  setServerStates(
    changes: readonly { ref: ServerRef; state: AdminState }[],
  ): Promise<{ answers: (string | null)[]; dump: ServersStateDump }>;
  dumpServersState(): Promise<ServersStateDump>;
  showServersState(backend?: string): Promise<ServerStateRow[]>;
  showInfo(): Promise<Record<string, string>>;
}
