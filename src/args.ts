// Command-line parsing (pure): subcommand, options, and the positional form of the Python tool.

import { parseDuration } from './config/parse.js';
import { errorText, UsageError } from './errors.js';

export type Command = 'listen' | 'check' | 'status' | 'restart';

export interface RestartArgs {
  readonly all: boolean;
  readonly names: readonly string[];
  /** Longest wait for a drained server's sessions to end before it is restarted anyway. */
  readonly drainTimeoutMs: number;
  /** Longest wait, after the restart, for the listener's warm-up and UP on every socket. */
  readonly readyTimeoutMs: number;
  /** Wait between two processes. */
  readonly pauseMs: number;
  /** `drain` (default: cookie-persistent clients finish) or `maint` (no new requests at all). */
  readonly takeOut: 'drain' | 'maint';
}

export interface Args {
  readonly command: Command;
  readonly config: string | null;
  readonly positional: readonly string[];
  readonly dryRun: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** --help / -h: usage on stdout, exit 0 (with any command). */
  readonly help: boolean;
  /** What --help prints: the command's own help after a command, the overview otherwise. */
  readonly usage: string;
  /** --version / -V: the package version on stdout, exit 0. */
  readonly version: boolean;
  /** check: also run every warm-up once. */
  readonly probe: boolean;
  /** status: JSON instead of a table. */
  readonly json: boolean;
  readonly restart: RestartArgs;
}

export const USAGE = `usage:
  supervisor-haproxy [listen] --config FILE [--dry-run] [--log-level debug|info|warn|error]
  supervisor-haproxy [--dry-run] SOCKET PROGRAM:BACKEND/SERVER [...]   (positional form of the Python tool)
  supervisor-haproxy check --config FILE [--probe]
  supervisor-haproxy status --config FILE [--json]
  supervisor-haproxy restart --config FILE (--all | NAME...) [--drain-timeout 30s] [--ready-timeout 5m]
                             [--pause 0s] [--maint]
  supervisor-haproxy --version | --help

  listen   (default) run as supervisord's [eventlistener:x]: mirror process states to HAProxy
  check    validate the config against the live supervisord and HAProxy, and whether the listener runs
  status   each process, its servers on every socket, its warm-up; exit 1 when something disagrees
           or no listener runs for this config
  restart  rolling restart: take each server out, restart it, wait until warmed and UP, then the next
`;

/** `supervisor-haproxy COMMAND --help`. */
const COMMAND_HELP: Record<Command, string> = {
  listen: `usage: supervisor-haproxy [listen] --config FILE [--dry-run] [--log-level debug|info|warn|error]
       supervisor-haproxy [--dry-run] SOCKET PROGRAM:BACKEND/SERVER [...]

Runs as supervisord's [eventlistener:x] (stdout is supervisord's protocol; logs go to stderr): each
process state goes to its HAProxy servers, maint at once on a stop, ready only after its warm-up.
SIGHUP reads FILE again: a bad file is refused and logged, the listener goes on with the config it has.

  --dry-run            log every set server it would send, send none
  --log-level LEVEL    debug, info (default), warn, error
`,
  check: `usage: supervisor-haproxy check --config FILE [--probe]

Validates FILE (exit 2 on a mistake), then the live systems, one line per finding: every socket
reachable at level admin, every backend/server on every socket, every [program:…] and [group:…]
matching a supervisord process, whether a listener runs for FILE, and each state file writable by
the listener's user. Exit 0 when all is well, 1 when a live check failed.

  --probe              also send each warm-up request of every running process once
`,
  status: `usage: supervisor-haproxy status --config FILE [--json]

One table: every mapped process, its supervisord state and uptime, the listener's warm-up outcome,
and each of its servers on each socket with HAProxy's status and whether the two agree. Exit 0 when
everything agrees and a listener runs for FILE, 1 otherwise.

  --json               a JSON document instead of the table
`,
  restart: `usage: supervisor-haproxy restart --config FILE (--all | NAME...) [options]

A rolling restart: for each process, take its servers out (drain, then maint) and wait for their
sessions to end, restart it through supervisord, wait until the listener has warmed it and every
socket shows it UP, then the next. NAME: process, group:process, group:* or group. Ended early (a
failure, Ctrl-C), it puts back what it took out of a process it had not yet restarted.

  --all                every process the config maps, in supervisord's order
  --drain-timeout 30s  longest wait for sessions to end; then it restarts anyway, with a warning
  --ready-timeout 5m   longest wait for warm and UP after the restart; then it stops, exit 1
  --pause 0s           wait between two processes
  --maint              take servers out with maint instead of drain
`,
};

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const COMMANDS: readonly Command[] = ['listen', 'check', 'status', 'restart'];

/** Which options each command takes, besides --config, --help and --log-level. */
const ALLOWED: Record<Command, readonly string[]> = {
  listen: ['--dry-run'],
  check: ['--probe'],
  status: ['--json'],
  restart: ['--all', '--drain-timeout', '--ready-timeout', '--pause', '--maint'],
};

export function parseArgs(argv: readonly string[]): Args {
  const rest = [...argv];
  let command: Command = 'listen';
  const named = rest[0] !== undefined && (COMMANDS as readonly string[]).includes(rest[0]);
  if (named) command = rest.shift() as Command;
  let config: string | null = null;
  let dryRun = false;
  let logLevel: Args['logLevel'] = 'info';
  let help = false;
  let version = false;
  let probe = false;
  let json = false;
  let all = false;
  let maint = false;
  let drainTimeoutMs = 30_000;
  let readyTimeoutMs = 300_000;
  let pauseMs = 0;
  const positional: string[] = [];
  while (rest.length > 0) {
    const arg = rest.shift() as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg) : [arg, null];
    const value = (): string => {
      const v = inline ?? rest.shift();
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const duration = (): number => {
      const v = value();
      try {
        return parseDuration(v);
      } catch (err) {
        throw new UsageError(`${flag}: ${errorText(err)}`);
      }
    };
    if (flag.startsWith('-') && !['--config', '-c', '--log-level', '--help', '-h', '--version', '-V'].includes(flag)) {
      if (!ALLOWED[command].includes(flag)) {
        throw new UsageError(
          Object.values(ALLOWED).some((l) => l.includes(flag))
            ? `${flag} does not apply to ${command}`
            : `unknown option ${arg}`,
        );
      }
    }
    switch (flag) {
      case '--config':
      case '-c':
        config = value();
        break;
      case '--dry-run':
        dryRun = true;
        break;
      case '--probe':
        probe = true;
        break;
      case '--json':
        json = true;
        break;
      case '--all':
        all = true;
        break;
      case '--maint':
        maint = true;
        break;
      case '--drain-timeout':
        drainTimeoutMs = duration();
        break;
      case '--ready-timeout':
        readyTimeoutMs = duration();
        break;
      case '--pause':
        pauseMs = duration();
        break;
      case '--log-level': {
        const v = value();
        if (!(LEVELS as readonly string[]).includes(v)) {
          throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, not '${v}'`);
        }
        logLevel = v as Args['logLevel'];
        break;
      }
      case '--help':
      case '-h':
        help = true;
        break;
      case '--version':
      case '-V':
        version = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (!help && !version) checkShape(command, config, positional, all);
  return {
    command,
    config,
    positional,
    dryRun,
    logLevel,
    help,
    usage: named ? COMMAND_HELP[command] : USAGE,
    version,
    probe,
    json,
    restart: {
      all,
      names: command === 'restart' ? positional : [],
      drainTimeoutMs,
      readyTimeoutMs,
      pauseMs,
      takeOut: maint ? 'maint' : 'drain',
    },
  };
}

function checkShape(command: Command, config: string | null, positional: readonly string[], all: boolean): void {
  if (command === 'listen') {
    if (config !== null && positional.length > 0) {
      throw new UsageError(`unexpected argument '${positional[0]}' with --config`);
    }
    if (config === null && positional.length === 0) throw new UsageError('--config FILE is required');
    return;
  }
  if (config === null) throw new UsageError(`${command}: --config FILE is required`);
  if (command === 'restart') {
    if (all && positional.length > 0) throw new UsageError('restart: give --all or names, not both');
    if (!all && positional.length === 0) throw new UsageError('restart: give --all or at least one NAME');
    return;
  }
  if (positional.length > 0) throw new UsageError(`${command}: unexpected argument '${positional[0]}'`);
}

function splitOnce(arg: string): [string, string] {
  const i = arg.indexOf('=');
  return [arg.slice(0, i), arg.slice(i + 1)];
}
