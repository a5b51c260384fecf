// What `restart` took out of rotation for one process, put back when the command ends without restarting it.

import { errorText } from '../errors.js';
import { adminStateOf } from '../haproxy/replies.js';
import { serverKey, type AdminState, type ServerRef } from '../haproxy/types.js';
import type { LiveHaproxy, LiveSupervisor } from './live.js';

/**
 * One process's servers as restart found them, until the process is handed to supervisord. Before that,
 * no event will come for it, so no listener will ever put them back: on failure or interrupt, restart
 * must (`undo`). From the stop on, supervisord's events take the servers to maint and, once the process
 * runs and is warm, the listener to ready: then restart leaves them alone and says where things stand.
 */
export class TakenOut {
  /** Per socket, each server's admin state before restart changed it; empty until `remember`. */
  private readonly before = new Map<LiveHaproxy, Map<string, AdminState>>();
  private handedOver = false;

  constructor(
    private readonly name: string,
    private readonly refs: readonly ServerRef[],
    private readonly oldPid: number,
  ) {}

  /** Reads each server's state on each socket, before restart changes anything. */
  async remember(haproxies: readonly LiveHaproxy[]): Promise<void> {
    for (const h of haproxies) {
      const states = new Map<string, AdminState>();
      for (const backend of new Set(this.refs.map((r) => r.backend))) {
        for (const row of await h.showServersState(backend)) {
          states.set(serverKey({ backend: row.backend, server: row.server }), adminStateOf(row.adminState));
        }
      }
      this.before.set(h, states);
    }
  }

  /** stopProcess is about to be asked: from now on the servers follow the process's events. */
  handOver(): void {
    this.handedOver = true;
  }

  /**
   * Puts back what restart changed, when it did not hand the process over or the stop left it running
   * as it was; otherwise says what it left. Returns lines to print; never throws.
   */
  async undo(supervisor: LiveSupervisor): Promise<string[]> {
    if (this.before.size === 0) return [];
    if (this.handedOver) {
      let state: string;
      try {
        const info = await supervisor.getProcessInfo(this.name);
        if (info.state === 'RUNNING' && info.pid === this.oldPid) return this.restore('the stop did not take effect');
        state = `${info.state} (pid ${info.pid})`;
      } catch (err) {
        state = `unknown (supervisord: ${errorText(err)})`;
      }
      return [
        `${this.name}: left to supervisord and the listener, now ${state}: its servers stay out of rotation ` +
          `until it runs and is warm again (supervisorctl start ${this.name}, or restart it again)`,
      ];
    }
    return this.restore('not restarted');
  }

  private async restore(why: string): Promise<string[]> {
    const lines: string[] = [];
    for (const [h, states] of this.before) {
      for (const ref of this.refs) {
        const key = serverKey(ref);
        const state = states.get(key);
        if (state === undefined) continue;
        try {
          await h.setServerState(ref, state);
          lines.push(`${this.name}: ${why}: ${key} put back to ${state} on ${h.label}`);
        } catch (err) {
          lines.push(
            `${this.name}: ${why}: could not put ${key} back to ${state} on ${h.label} (${errorText(err)}); ` +
              `to do it by hand: echo "set server ${key} state ${state}" | socat stdio ${socatAddress(h.label)}`,
          );
        }
      }
    }
    return lines;
  }
}

/** socat's name for a socket label: a unix path as it is, tcp://host:port as TCP:host:port. */
function socatAddress(label: string): string {
  return label.startsWith('tcp://') ? `TCP:${label.slice('tcp://'.length)}` : label;
}
