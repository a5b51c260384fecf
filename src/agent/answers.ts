// The agent-check exchange (pure): HAProxy's request line in, the listener's desired state out as agent-check words.

import { isValidName } from '../haproxy/commands.js';
import { serverKey, type AdminState, type ServerRef } from '../haproxy/types.js';
import type { DesiredState } from '../reconcile/desired.js';

/**
 * The longest request line read, in characters. Two HAProxy names and a slash fit easily; beyond this the
 * peer is not an HAProxy sending our agent-send string, and buffering more would let it grow our memory.
 */
export const MAX_LINE = 512;

type AgentRequest =
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

/**
 * The answer to a drain decision given what was answered before. `drain` from `maint` puts a server back in
 * service for cookie-persistent visitors and health checks (the socket appliers refuse it for the same
 * reason, seeing maint in HAProxy); the agent cannot see HAProxy, so it goes by its own last answer: drain
 * only follows ready or drain, and a server first decided drain is answered maint.
 */
export function nextAnswer(previous: AdminState | undefined, wanted: AdminState): AdminState {
  if (wanted === 'drain' && previous !== 'ready' && previous !== 'drain') return 'maint';
  return wanted;
}

/**
 * Follows the desired state (the decisions the socket appliers apply) and keeps one answer per server.
 * A server with no decision yet (the start-up resync has not placed its process) has no answer.
 */
export class AgentAnswers {
  private readonly answers = new Map<string, AdminState>();
  /** serverKey → version of the decision last turned into an answer. */
  private readonly seen = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(private readonly desired: DesiredState) {
    this.update();
    this.unsubscribe = desired.onChange(() => this.update());
  }

  answerFor(ref: ServerRef): AdminState | null {
    return this.answers.get(serverKey(ref)) ?? null;
  }

  close(): void {
    this.unsubscribe();
  }

  private update(): void {
    for (const [key, d] of this.desired.all()) {
      if (this.seen.get(key) === d.version) continue;
      this.seen.set(key, d.version);
      this.answers.set(key, nextAnswer(this.answers.get(key), d.state));
    }
  }
}

/** Why a request got no decision; each a distinct value of the log line's `why`. */
export type Refusal = 'unknown' | 'empty' | 'malformed' | 'too-long' | 'timeout' | 'too-many-connections';

interface Reply {
  /** The line written back, newline included. */
  readonly text: string;
  readonly state: AdminState | null;
  /** Set when the request got the answer that changes nothing. */
  readonly refusal: Refusal | null;
}

/**
 * HAProxy reads words up to the first `#` and takes the rest as a description; a line with no word changes
 * neither the admin state, the weight nor the health of the server (tcpcheck_agent_expect_reply).
 */
export const NO_CHANGE = '#no decision\n';

/** The line answered to one request. */
export function reply(request: AgentRequest, lookup: (ref: ServerRef) => AdminState | null): Reply {
  if (request.kind === 'invalid') return { text: NO_CHANGE, state: null, refusal: request.why };
  const state = lookup(request.ref);
  if (state === null) return { text: NO_CHANGE, state: null, refusal: 'unknown' };
  return { text: `${state}\n`, state, refusal: null };
}
