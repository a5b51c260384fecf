// Desired state as data: what each HAProxy server should be, with a version per decision.

import { serverKey, type AdminState, type ServerRef } from '../haproxy/types.js';

export interface DesiredServer {
  readonly ref: ServerRef;
  readonly state: AdminState;
  /** Bumped on every decision, even an unchanged one: appliers apply each decision once. */
  readonly version: number;
  /** The process (group:process) whose decision this is; for logs. */
  readonly owner: string;
}

/**
 * Appliers compare their applied version per server with this one; anything newer is applied.
 * Re-applying everything (after an HAProxy restart) is forgetting the applied versions.
 */
export class DesiredState {
  private readonly servers = new Map<string, DesiredServer>();
  private readonly listeners = new Set<() => void>();
  private counter = 0;

  set(refs: readonly ServerRef[], state: AdminState, owner: string): void {
    for (const ref of refs) {
      this.counter += 1;
      this.servers.set(serverKey(ref), { ref, state, version: this.counter, owner });
    }
    for (const listener of this.listeners) listener();
  }

  get(ref: ServerRef): DesiredServer | undefined {
    return this.servers.get(serverKey(ref));
  }

  all(): IterableIterator<[string, DesiredServer]> {
    return this.servers.entries();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
