// Locating the real haproxy / supervisord binaries; a missing one fails the test with what to install.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type BinaryName = 'haproxy' | 'supervisord' | 'supervisorctl';

/** Debian package that provides each binary. */
const PACKAGE: Record<BinaryName, string> = {
  haproxy: 'haproxy',
  supervisord: 'supervisor',
  supervisorctl: 'supervisor',
};

// haproxy lives in /usr/sbin, which is not on every user's PATH.
const defaultDirs = (): string[] => [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];

/** Absolute path of the binary; throws "<name> not found on PATH: apt-get install -y <pkg>" otherwise. */
export function requireBinary(name: BinaryName, dirs: readonly string[] = defaultDirs()): string {
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; next directory
    }
  }
  throw new Error(`${name} not found on PATH: apt-get install -y ${PACKAGE[name]}`);
}

/** The version `haproxy -v` prints (2.2 says `HA-Proxy version 2.2.9-…`, later ones `HAProxy version …`). */
export function haproxyVersion(bin: string): string {
  const out = execFileSync(bin, ['-v'], { encoding: 'utf8' });
  const m = /^HA-?Proxy version (\S+)/m.exec(out);
  if (m === null) throw new Error(`${bin} -v: no version in ${JSON.stringify(out.slice(0, 200))}`);
  return m[1] as string;
}
