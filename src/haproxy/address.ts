// Reads a stats socket address from config text: an absolute unix path, unix:///path or tcp://host:port.

import { isIPv6 } from 'node:net';
import { quote } from '../errors.js';
import type { SocketAddress } from './types.js';

const FORMS = 'expected an absolute unix socket path, unix:///path or tcp://host:port';
const CONTROL = /[\x00-\x1f\x7f]/;
// Names and IPv4 literals; a colon would make `host:port` ambiguous, so IPv6 needs brackets.
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** Throws a plain Error naming the text; the config parser adds file, section and key. */
export function parseSocketAddress(text: string): SocketAddress {
  const fail = (detail: string): never => {
    throw new Error(`${quote(text)}: ${detail}`);
  };
  if (text.startsWith('/')) return unixAddress(text, fail);
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) fail('expected unix:///absolute/path');
    return unixAddress(path, fail);
  }
  if (text.startsWith('tcp://')) return tcpAddress(text.slice('tcp://'.length), fail);
  // A relative path would depend on the listener's working directory, which supervisord sets.
  if (text !== '' && !text.includes(':')) fail(`a unix socket path must be absolute; ${FORMS}`);
  return fail(FORMS);
}

function unixAddress(path: string, fail: (detail: string) => never): SocketAddress {
  if (path === '/' || path.endsWith('/')) fail('a unix socket path must name a file');
  if (CONTROL.test(path)) fail('control characters in a unix socket path');
  return { kind: 'unix', path, label: path };
}

function tcpAddress(rest: string, fail: (detail: string) => never): SocketAddress {
  const m = /^(\[[^\]]*\]|[^:/[\]]*):(\d+)$/.exec(rest);
  if (m === null) return fail('expected tcp://host:port');
  const hostPart = m[1] as string;
  const portText = m[2] as string;
  let host: string;
  if (hostPart.startsWith('[')) {
    host = hostPart.slice(1, -1);
    if (!isIPv6(host)) fail(`'${host}' is not an IPv6 address`);
  } else {
    host = hostPart;
    if (host === '') fail('expected tcp://host:port (the host is missing)');
    if (!HOST_NAME.test(host)) fail(`'${host}' is not a host name or IPv4 address`);
  }
  const port = Number(portText);
  if (portText.length > 5 || port < 1 || port > 65535) fail(`port ${portText} is not in 1-65535`);
  return { kind: 'tcp', host, port, label: `tcp://${hostPart}:${port}` };
}
