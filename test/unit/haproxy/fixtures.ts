// Replies captured verbatim from a real HAProxy 2.6 by test/fixtures/haproxy/capture.mjs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/paths.js';

const DIR = join(ROOT, 'test', 'fixtures', 'haproxy');

interface Manifest {
  readonly haproxy: string;
  readonly replies: Record<string, { readonly socket: 'admin' | 'user'; readonly command: string }>;
}

export const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Manifest;

/** The bytes of one captured reply, as a string (HAProxy's replies are ASCII). */
export function reply(file: string): string {
  if (manifest.replies[file] === undefined) throw new Error(`${file} is not in the fixture manifest`);
  return readFileSync(join(DIR, file), 'utf8');
}

/** The command that produced a captured reply. */
export const commandOf = (file: string): string => {
  const entry = manifest.replies[file];
  if (entry === undefined) throw new Error(`${file} is not in the fixture manifest`);
  return entry.command;
};

/** Captured error replies: file → the message HAProxy sent. */
export const ERROR_REPLIES = {
  'no-such-backend.txt': 'No such backend.',
  'no-such-server.txt': 'No such server.',
  'state-keyword.txt': "'set server <srv> state' expects 'ready', 'drain' and 'maint'.",
  'require-backend-server.txt': "Require 'backend/server'.",
  'permission-denied.txt': 'Permission denied',
  'cant-find-backend.txt': "Can't find backend.",
  'no-such-proxy.txt': 'No such proxy.',
} as const;
