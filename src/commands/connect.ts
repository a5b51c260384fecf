// The real clients behind the operator commands: one HaproxyClient per socket, supervisord's XML-RPC.

import type { Config } from '../config/types.js';
import { HaproxyClient } from '../haproxy/client.js';
import { SupervisorRpc } from '../supervisor/rpc.js';
import type { LiveHaproxy, LiveSupervisor } from './live.js';

export function liveHaproxies(config: Config): LiveHaproxy[] {
  return config.haproxy.sockets.map((address) => new HaproxyClient(address, { timeoutMs: config.haproxy.timeoutMs }));
}

/** Callers check first that config.supervisor.url is set. */
export function liveSupervisor(config: Config): LiveSupervisor {
  const { url, username, password, timeoutMs } = config.supervisor;
  if (url === null) throw new Error('liveSupervisor: no supervisord url');
  // restart's startProcess waits for startsecs: give calls room beyond the listener's short timeout.
  return new SupervisorRpc({ url, username, password, timeoutMs: Math.max(timeoutMs, 60_000) });
}
