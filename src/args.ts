// Command-line parsing (pure): subcommand, options, and the positional form of the Python tool.

import { UsageError } from './errors.js';

export type Command = 'listen';

export interface Args {
  readonly command: Command;
  readonly config: string | null;
  readonly positional: readonly string[];
  readonly dryRun: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly help: boolean;
}

export const USAGE = `usage:
  supervisor-haproxy [listen] --config FILE [--dry-run] [--log-level debug|info|warn|error]
  supervisor-haproxy [--dry-run] SOCKET PROGRAM:BACKEND/SERVER [...]   (positional form of the Python tool)
`;

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export function parseArgs(argv: readonly string[]): Args {
  let command: Command = 'listen';
  let config: string | null = null;
  let dryRun = false;
  let logLevel: Args['logLevel'] = 'info';
  let help = false;
  const positional: string[] = [];
  const rest = [...argv];
  if (rest[0] === 'listen') rest.shift();
  while (rest.length > 0) {
    const arg = rest.shift() as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg) : [arg, null];
    const value = (): string => {
      const v = inline ?? rest.shift();
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--config':
      case '-c':
        config = value();
        break;
      case '--dry-run':
        dryRun = true;
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
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (!help) {
    if (config !== null && positional.length > 0) {
      throw new UsageError(`unexpected argument '${positional[0]}' with --config`);
    }
    if (config === null && positional.length === 0) throw new UsageError('--config FILE is required');
  }
  return { command, config, positional, dryRun, logLevel, help };
}

function splitOnce(arg: string): [string, string] {
  const i = arg.indexOf('=');
  return [arg.slice(0, i), arg.slice(i + 1)];
}
