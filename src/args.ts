// Command-line parsing (pure): subcommand, options, and the positional form of the Python tool.

import { parseDuration } from './config/duration.js';
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
  if (rest[0] !== undefined && (COMMANDS as readonly string[]).includes(rest[0])) command = rest.shift() as Command;
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
