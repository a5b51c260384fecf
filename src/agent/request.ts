// The agent-check request line, `backend/server` as HAProxy's `agent-send "backend/server\n"` sends it (pure).

import { isValidName } from '../haproxy/commands.js';
import type { ServerRef } from '../haproxy/types.js';

/**
 * The longest request line read, in characters. Two HAProxy names and a slash fit easily; beyond this the
 * peer is not an HAProxy sending our agent-send string, and buffering more would let it grow our memory.
 */
export const MAX_LINE = 512;

export type AgentRequest =
  | { readonly kind: 'server'; readonly ref: ServerRef }
  /** Not a name we could look up: `why` says what, for the log. */
  | { readonly kind: 'invalid'; readonly why: 'empty' | 'malformed' };

/**
 * One request line, its line ending already cut off by the framing. A trailing CR (`agent-send "…\r\n"`) and
 * blanks around the name are forgiven; anything else that is not `backend/server` with HAProxy's name
 * characters (^[A-Za-z0-9_.:-]+$) is malformed: binary junk never reaches a lookup or a log unescaped.
 */
export function parseRequest(line: string): AgentRequest {
  const text = line.replace(/\r$/, '').trim();
  if (text === '') return { kind: 'invalid', why: 'empty' };
  const slash = text.indexOf('/');
  if (slash < 0) return { kind: 'invalid', why: 'malformed' };
  const backend = text.slice(0, slash);
  const server = text.slice(slash + 1);
  if (!isValidName(backend) || !isValidName(server)) return { kind: 'invalid', why: 'malformed' };
  return { kind: 'server', ref: { backend, server } };
}
