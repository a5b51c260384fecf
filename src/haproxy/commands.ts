// Builds the runtime-API command lines we send (pure); refuses anything that could smuggle in a second command.

import { quote } from '../errors.js';
import type { AdminState, ServerRef } from './types.js';

/** The only characters HAProxy itself allows in proxy and server names (`haproxy -c` rejects the rest). */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]+$/;
export const MAX_NAME_LENGTH = 255;
/**
 * Longest line we send. HAProxy answered 1,000-byte lines, but lines near tune.bufsize (16 KB) were never
 * answered and wedged a CLI slot for good; ours are short, so a low bound costs nothing.
 */
export const MAX_LINE_BYTES = 1024;

const ADMIN_STATES: readonly AdminState[] = ['maint', 'drain', 'ready'];
// `;` splits commands and `\n` ends one anywhere on the line; other control bytes have no business here.
const CONTROL = /[\x00-\x1f\x7f]/;

export function isValidName(s: string): boolean {
  return s.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(s);
}

/** Returns `line` if it is one safe command line (no newline, not empty, bounded); throws Error otherwise. */
export function checkLine(line: string): string {
  if (line.trim() === '') throw new Error('empty command line');
  if (CONTROL.test(line)) throw new Error(`command line holds a control character: ${quote(line)}`);
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > MAX_LINE_BYTES) throw new Error(`command line is ${bytes} bytes, more than ${MAX_LINE_BYTES}`);
  return line;
}

/** `set server B/S state maint|drain|ready`. */
export function setServerState(ref: ServerRef, state: AdminState): string {
  checkName('backend', ref.backend);
  checkName('server', ref.server);
  if (!ADMIN_STATES.includes(state)) throw new Error(`not an admin state: ${quote(String(state))}`);
  return checkLine(`set server ${ref.backend}/${ref.server} state ${state}`);
}

/** `show servers state [B]`: all backends, or one. */
export function showServersState(backend?: string): string {
  if (backend === undefined) return 'show servers state';
  checkName('backend', backend);
  return checkLine(`show servers state ${backend}`);
}

export function showInfo(): string {
  return 'show info';
}

/** `show stat` of everything: the commands read the server rows of every backend at once. */
export function showStat(): string {
  return 'show stat';
}

function checkName(what: 'backend' | 'server', name: string): void {
  if (!isValidName(name)) {
    throw new Error(
      `${what} name ${quote(name)} is not a valid HAProxy name ` +
        `(1-${MAX_NAME_LENGTH} of letters, digits and _ . : -)`,
    );
  }
}

/**
 * Joins command lines with `;` into as few lines as fit in MAX_LINE_BYTES, in order: HAProxy runs every
 * `;`-separated command of a line and answers each in turn (each answer ends with an empty line), one connection for many.
 */
export function chainLines(lines: readonly string[], maxBytes = MAX_LINE_BYTES): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8');
    if (current.length > 0 && bytes + 1 + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    bytes += (current.length > 0 ? 1 : 0) + size;
    current.push(line);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
