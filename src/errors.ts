// Every error the product raises, each with a stable code a caller or a log line can match on.

type ErrorCode =
  | 'CONFIG'
  | 'USAGE'
  | 'PROTOCOL'
  | 'HAPROXY_COMMAND'
  | 'HAPROXY_CONNECT'
  | 'HAPROXY_TIMEOUT'
  | 'HAPROXY_REPLY'
  | 'AGENT_LISTEN'
  | 'XMLRPC_FAULT'
  | 'XMLRPC_TRANSPORT'
  | 'RESTART_STOPPED'
  | 'RESTART_INTERRUPTED';

/** The message of anything thrown, for logs and error texts. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Text as an error message or log line shows it: JSON-escaped, so control characters and junk cannot break
 * the line, and cut after `max` characters (whole code points) with an ellipsis.
 */
export function quote(text: string, max = 80): string {
  const chars = [...text];
  return chars.length <= max ? JSON.stringify(text) : `${JSON.stringify(chars.slice(0, max).join(''))}…`;
}

/** The stack of anything thrown, else its text: for errors nobody expected (a log line quotes the newlines). */
export const errorStack = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string) {
    super(message);
    // The class's own name, as a stack trace or a log line shows it: ConfigError, UsageError…
    this.name = new.target.name;
  }
}

/** A configuration problem; names the file, section and key so the operator can go straight to it. */
export class ConfigError extends AppError {
  readonly code = 'CONFIG' as const;
  constructor(
    readonly file: string,
    readonly section: string | null,
    readonly key: string | null,
    readonly detail: string,
  ) {
    super(
      `${file}${section === null ? '' : `: [${section}]`}${key === null ? '' : ` ${key}`}: ${detail}`,
    );
  }
}

/** Bad command-line usage (unknown option, missing argument). Exit 2 like a config error. */
export class UsageError extends AppError {
  readonly code = 'USAGE' as const;
}

/** Malformed eventlistener protocol input from supervisord. The listener exits non-zero on it. */
export class ProtocolError extends AppError {
  readonly code = 'PROTOCOL' as const;
}

/** HAProxy answered a command with error text (success is a bare "\n"). */
export class HaproxyCommandError extends AppError {
  readonly code = 'HAPROXY_COMMAND' as const;
  constructor(
    readonly socket: string,
    readonly command: string,
    readonly reply: string,
  ) {
    super(`haproxy ${socket}: '${command}' failed: ${reply.trim()}`);
  }
}

/** Could not reach an HAProxy stats socket, or it did not answer in time. */
export class HaproxyConnectError extends AppError {
  readonly code: 'HAPROXY_CONNECT' | 'HAPROXY_TIMEOUT';
  constructor(
    readonly socket: string,
    message: string,
    timeout = false,
  ) {
    super(`haproxy ${socket}: ${message}`);
    this.code = timeout ? 'HAPROXY_TIMEOUT' : 'HAPROXY_CONNECT';
  }
}

/** HAProxy answered, but not in a shape we can read (e.g. a truncated `show servers state`). */
export class HaproxyReplyError extends AppError {
  readonly code = 'HAPROXY_REPLY' as const;
}

/** `[agent] listen` could not be bound (address in use, or not on this host). */
export class AgentListenError extends AppError {
  readonly code = 'AGENT_LISTEN' as const;
  constructor(readonly reason: unknown) {
    super(`agent cannot listen: ${errorText(reason)}`);
  }
}

/** supervisord answered an XML-RPC call with a <fault> (e.g. 10 BAD_NAME). */
export class XmlRpcFault extends AppError {
  readonly code = 'XMLRPC_FAULT' as const;
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`supervisord fault ${faultCode}: ${faultString}`);
  }
}

/** supervisord's XML-RPC endpoint could not be reached, timed out, or answered non-200 (e.g. 401). */
export class XmlRpcTransportError extends AppError {
  readonly code = 'XMLRPC_TRANSPORT' as const;
}

/** A rolling restart asked to stop by a signal (Ctrl-C, SIGTERM); exits 128 + the signal's number. */
export class RestartInterrupted extends AppError {
  readonly code = 'RESTART_INTERRUPTED' as const;
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    readonly exitCode: number,
  ) {
    super(`interrupted by ${signal}`);
  }
}

/** A rolling restart stopped before its end: the message says why (guard, no start, not UP in time). */
export class RestartStopped extends AppError {
  readonly code = 'RESTART_STOPPED' as const;
}
