#!/usr/bin/env node
// Entry point: parse the command line, load the config, run the chosen command, map errors to exit codes.
// The shebang is for the listener's memory, which must stay flat for months (bench/memory.ts):
// - --max-semi-space-size=1 caps V8's young generation at 1 MB per semi-space; by default V8 grows it to
//   16 MB under a burst, RSS that never comes back (measured: +21 MB over 1M events, live heap flat at 6 MB);
// - --optimize-for-size: V8 trades some speed for a smaller heap;
// - --expose-gc lets the heap watch (heap/watch.ts) collect the old space as garbage piles up;
// - MALLOC_ARENA_MAX=1: V8's helper threads allocate from the main malloc arena instead of each growing
//   its own (measured: +0.6 MB instead of +1.1 MB of malloc memory over 1M events).

import { parseArgs, USAGE, type Args, type Command } from './args.js';
import { systemClock } from './clock.js';
import { check } from './commands/check.js';
import { liveHaproxies, liveSupervisor } from './commands/connect.js';
import { listen } from './commands/listen.js';
import { restart } from './commands/restart.js';
import { status } from './commands/status.js';
import { loadConfig } from './config/load.js';
import { parsePositional } from './config/positional.js';
import type { Config } from './config/types.js';
import { AppError, ConfigError } from './errors.js';
import { createLogger, type Level } from './log.js';
import { stdinSource, stdoutSink } from './supervisor/stdio.js';
import { packageVersion } from './version.js';
import { httpProbe } from './warmup/probe.js';

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  let config: Config;
  try {
    args = parseArgs(argv);
    // Asked for, so they go to stdout (a usage error goes to stderr with exit 2).
    if (args.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    config =
      args.config !== null
        ? loadConfig(args.config, process.env)
        : parsePositional([...args.positional], process.env);
  } catch (err) {
    return usageOrConfigError(err);
  }
  try {
    // The listener's stdout is supervisord's protocol channel: only the event channel writes to it.
    if (args.command === 'listen') {
      return await listen({
        config,
        dryRun: args.dryRun,
        log: createLogger(undefined, args.logLevel as Level),
        input: stdinSource(),
        output: stdoutSink(),
        env: process.env,
        stopSignal: stopSignal(),
      });
    }
    return await operatorCommand(args.command, args, config);
  } catch (err) {
    return usageOrConfigError(err);
  }
}

/** check, status and restart: run by an operator, never as supervisord's listener, so they report on stdout. */
async function operatorCommand(command: Exclude<Command, 'listen'>, args: Args, config: Config): Promise<number> {
  const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  switch (command) {
    case 'check':
      return check({
        config,
        haproxies: liveHaproxies(config),
        supervisor: config.supervisor.url === null ? null : liveSupervisor(config),
        probe: args.probe ? httpProbe : null,
        out,
      });
    case 'status':
      return status({ config, haproxies: liveHaproxies(config), supervisor: liveSupervisorOrFail(config), json: args.json, out });
    case 'restart':
      return restart({
        config,
        haproxies: liveHaproxies(config),
        supervisor: liveSupervisorOrFail(config),
        clock: systemClock,
        out,
        args: args.restart,
      });
  }
}

/** status and restart cannot work without supervisord: a missing url is a config error (exit 2). */
function liveSupervisorOrFail(config: Config): ReturnType<typeof liveSupervisor> {
  if (config.supervisor.url === null) {
    throw new ConfigError(config.file, 'supervisor', 'url', 'required by this command: set it, or $SUPERVISOR_SERVER_URL');
  }
  return liveSupervisor(config);
}

function usageOrConfigError(err: unknown): number {
  if (err instanceof AppError && (err.code === 'CONFIG' || err.code === 'USAGE')) {
    // Nothing has touched HAProxy yet: say exactly where the problem is and stop.
    process.stderr.write(`supervisor-haproxy: ${err.message}\n`);
    if (err.code === 'USAGE') process.stderr.write(USAGE);
    return 2;
  }
  throw err;
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
    // Pending timers (probe sockets being torn down) must not keep a stopping process alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `supervisor-haproxy: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
