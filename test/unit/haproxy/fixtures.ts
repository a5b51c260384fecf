// Replies captured verbatim from real HAProxy 2.2, 2.6 and 3.0 by test/fixtures/haproxy/capture.mjs, one
// folder per version.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/paths.js';

/** Every version with captures: Debian 11's, Debian 12's and Debian 13's HAProxy. */
export const VERSIONS = ['2.2', '2.6', '3.0'] as const;
export type FixtureVersion = (typeof VERSIONS)[number];

interface Manifest {
  readonly haproxy: string;
  readonly replies: Record<string, { readonly socket: 'admin' | 'operator' | 'user'; readonly command: string }>;
}

export interface Fixtures {
  readonly version: FixtureVersion;
  readonly manifest: Manifest;
  /** The bytes of one captured reply, as a string (HAProxy's replies are ASCII). */
  reply(file: string): string;
  /** The command that produced a captured reply. */
  commandOf(file: string): string;
}

export function fixtures(version: FixtureVersion): Fixtures {
  const dir = join(ROOT, 'test', 'fixtures', 'haproxy', version);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const entry = (file: string) => {
    const found = manifest.replies[file];
    if (found === undefined) throw new Error(`${file} is not in the ${version} fixture manifest`);
    return found;
  };
  return {
    version,
    manifest,
    reply: (file) => {
      entry(file);
      return readFileSync(join(dir, file), 'utf8');
    },
    commandOf: (file) => entry(file).command,
  };
}

/** The captures of every version, for `describe.each`. */
export const ALL = VERSIONS.map(fixtures);

/** Debian 12's HAProxy 2.6 (the machine's own): for tests that need one version's replies. */
export const { reply, commandOf, manifest } = fixtures('2.6');

/** Captured error replies: file → the message HAProxy sent (the same text in 2.2, 2.6 and 3.0). */
export const ERROR_REPLIES = {
  'no-such-backend.txt': 'No such backend.',
  'no-such-server.txt': 'No such server.',
  'state-keyword.txt': "'set server <srv> state' expects 'ready', 'drain' and 'maint'.",
  'require-backend-server.txt': "Require 'backend/server'.",
  'permission-denied.txt': 'Permission denied',
  'cant-find-backend.txt': "Can't find backend.",
  'no-such-proxy.txt': 'No such proxy.',
} as const;
