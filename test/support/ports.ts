// Loopback TCP ports for the servers a test starts: port 0 where Node binds, retries where a binary must be told.

import { createServer, type Server } from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1 (the kernel picked it; we close before returning). Another
 * process may take it before the binary that is given it binds: start such binaries with withFreshPorts().
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the port of a probe socket'))));
    });
  });
}

/** The port a listening Node server got (listen on port 0, then ask). */
export function boundPort(server: Server): number {
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('the server is not listening on a TCP port');
  return addr.port;
}

/** A binary (or an app it runs) could not bind a port it was given: another process took it first. */
export class PortInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortInUseError';
  }
}

/** How often a start that lost a port race is tried again with fresh ports. */
export const PORT_ATTEMPTS = 3;

/**
 * Runs start() until it does not fail with PortInUseError, at most `attempts` times; start() picks its ports
 * with freePort() each time. After any failure, undo() tears down what start() got to (it must cope with a
 * half-done start) before the next attempt or the error.
 */
export async function withFreshPorts<T>(
  start: (attempt: number) => Promise<T>,
  undo: () => Promise<void>,
  attempts = PORT_ATTEMPTS,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(attempt);
    } catch (e) {
      await undo();
      if (!(e instanceof PortInUseError) || attempt >= attempts) throw e;
      process.stderr.write(`a port was taken before it was bound (attempt ${attempt} of ${attempts}), trying fresh ones: ${e.message}\n`);
    }
  }
}

/** err as a PortInUseError when its text (a start-up failure quoting the binary's log) matches `inUse`. */
export function asPortInUse(err: unknown, inUse: RegExp): unknown {
  return err instanceof Error && inUse.test(err.message) ? new PortInUseError(err.message) : err;
}
