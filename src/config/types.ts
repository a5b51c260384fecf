// The validated configuration: what the INI contract (or the positional form) means, as data.

import type { AgentAddress } from '../agent/address.js';
import type { SocketAddress } from '../haproxy/types.js';
import type { ProbeTarget, WarmupSpec } from '../warmup/spec.js';

export type OnStopping = 'maint' | 'drain';

/** Which supervisord processes a rule applies to. */
export type ProcessMatch =
  /** [program:NAME] (any group whose process is NAME) or [program:GROUP:NAME] (exactly that one). */
  | { readonly kind: 'process'; readonly group: string | null; readonly process: string }
  /** [group:NAME]: every process of the group. */
  | { readonly kind: 'group'; readonly group: string };

/** A rule's warm-up: what a warm-up is (`[warmup]` gives the defaults, a program overrides), and never_empty. */
export interface WarmupSettings extends WarmupSpec {
  /**
   * `never_empty`: when the last server in service of a backend goes, this process, if it is warming and its
   * port answers, goes ready before it is warm (a slow page beats a 503), until another server is warm.
   */
  readonly neverEmpty: boolean;
}

export interface ProgramRule {
  /** The INI section it came from, e.g. "program:instance1"; used in messages. */
  readonly section: string;
  readonly match: ProcessMatch;
  /**
   * "backend/server" templates; `%(process_name)s`, `%(group_name)s` and `%(program_name)s`
   * (an alias of group_name) are substituted per process. Already validated with a sample name.
   */
  readonly servers: readonly string[];
  /** Warm-up for this rule; an empty `requests` list means: ready as soon as RUNNING. */
  readonly warmup: WarmupSettings;
  readonly onStopping: OnStopping;
  /**
   * `address = HOST:PORT` ([program:…] only): where relative warm-up paths go, instead of the address HAProxy
   * shows for the server. Absent when not given; required for relative paths when there is no [haproxy] socket.
   */
  readonly address?: ProbeTarget;
}

export interface Config {
  /** The file it came from ("<command line>" for the positional form). */
  readonly file: string;
  readonly haproxy: {
    readonly sockets: readonly SocketAddress[];
    readonly timeoutMs: number;
    /** `[haproxy] heartbeat` (default 1s): how often each socket is checked for an HAProxy restart. */
    readonly heartbeatMs: number;
    /**
     * `[haproxy] server_state_file`: per socket (same order), HAProxy's server state file that the listener
     * keeps current, or null; empty when the key is not set.
     */
    readonly serverStateFiles: readonly (string | null)[];
  };
  readonly supervisor: {
    /** unix:///path or http://host:port; null when neither the file nor $SUPERVISOR_SERVER_URL gives one. */
    readonly url: string | null;
    readonly username: string | null;
    readonly password: string | null;
    readonly timeoutMs: number;
  };
  readonly listener: {
    /**
     * `[listener] state_file`: where the listener keeps what it knows (each process's state and warm-up
     * outcome) for `status`; null: not kept.
     */
    readonly stateFile: string | null;
  };
  readonly rules: readonly ProgramRule[];
  /** `[warmup] concurrency`: at most this many warm-ups run at once, the others wait their turn; null: no limit. */
  readonly warmupConcurrency: number | null;
  /** `[agent] listen`: the agent-check responder's addresses; absent without an [agent] section. */
  readonly agent?: { readonly listen: readonly AgentAddress[] };
}
