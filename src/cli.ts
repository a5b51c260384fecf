#!/usr/bin/env node
// Entry point: parse the command line, load the config, run the chosen command, map errors to exit codes.

import { loadConfig } from './config/load.js';
import { parsePositional } from './config/positional.js';
import type { Config } from './config/types.js';
import { AppError } from './errors.js';
import { createLogger, type Level } from './log.js';
import { listen } from './commands/listen.js';
import { parseArgs, USAGE, type Args } from './args.js';

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  let config: Config;
  try {
    args = parseArgs(argv);
    if (args.help) {
      process.stderr.write(USAGE);
      return 0;
    }
    config =
      args.config !== null
        ? loadConfig(args.config, process.env)
        : parsePositional([...args.positional], process.env);
  } catch (err) {
    if (err instanceof AppError && (err.code === 'CONFIG' || err.code === 'USAGE')) {
      // Nothing has touched HAProxy yet: say exactly where the problem is and stop.
      process.stderr.write(`supervisor-haproxy: ${err.message}\n`);
      if (err.code === 'USAGE') process.stderr.write(USAGE);
      return 2;
    }
    throw err;
  }
  const log = createLogger(undefined, args.logLevel as Level);
  switch (args.command) {
    case 'listen':
      return listen({
        config,
        dryRun: args.dryRun,
        log,
        input: process.stdin,
        output: process.stdout,
        env: process.env,
        stopSignal: stopSignal(),
      });
  }
}

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Pending timers (probe sockets being torn down) must not keep a stopping listener alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `supervisor-haproxy: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
