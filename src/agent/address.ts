// Where the agent-check responder listens: `[agent] listen` read into IP addresses and ports (pure).

import { isIPv4, isIPv6 } from 'node:net';

export interface AgentAddress {
  /** An IP literal without brackets: 0.0.0.0, 127.0.0.1, ::, ::1. */
  readonly host: string;
  readonly port: number;
  /** As logs and `status` name it: 127.0.0.1:9707, [::1]:9707. */
  readonly label: string;
}

/**
 * One `HOST:PORT`: an IPv4 literal or a bracketed IPv6 literal. Host names are refused: a name can resolve
 * to several addresses or none, and a listener that binds a different one than the operator meant answers
 * nobody. Throws a plain Error; the config parser adds file, section and key.
 */
export function parseAgentAddress(text: string): AgentAddress {
  const m = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  if (m === null) throw new Error(`'${text}': expected HOST:PORT, e.g. 0.0.0.0:9707 or [::]:9707`);
  const hostPart = m[1] as string;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`'${text}': port must be 1-65535`);
  if (hostPart.startsWith('[')) {
    const written = hostPart.slice(1, -1);
    if (!isIPv6(written)) throw new Error(`'${text}': '${written}' is not an IPv6 address`);
    // The canonical form (0:0::1 is ::1), so that the same address written twice is seen as such.
    const host = new URL(`http://[${written}]/`).hostname.slice(1, -1);
    return { host, port, label: `[${host}]:${port}` };
  }
  if (!isIPv4(hostPart)) {
    throw new Error(`'${text}': '${hostPart}' is not an IPv4 address (an IPv6 one goes in brackets: [::1]:${port})`);
  }
  return { host: hostPart, port, label: `${hostPart}:${port}` };
}

/** Where a client on this host reaches an agent bound to `a`: the wildcard addresses accept loopback. */
export function connectHost(a: AgentAddress): string {
  if (a.host === '0.0.0.0') return '127.0.0.1';
  if (a.host === '::') return '::1';
  return a.host;
}
