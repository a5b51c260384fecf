#!/usr/bin/env node
// Entry point: parse the command line, load the config, run the chosen command, map errors to exit codes.

import { parseArgs, USAGE, type Args, type Command } from './args.js';
import { systemClock } from './clock.js';
import { check } from './commands/check.js';
import { liveHaproxies, liveSupervisor } from './commands/live.js';
import { listen } from './commands/listen.js';
import { readListenerFile } from './commands/find-listener.js';
import { restart } from './commands/restart.js';
import { status } from './commands/status.js';
import { loadConfig } from './config/load.js';
import type { ListenerSnapshot } from './reconcile/snapshot.js';
import { parsePositional } from './config/positional.js';
import type { Config } from './config/types.js';
import { AppError, ConfigError, errorStack, RestartInterrupted } from './errors.js';
import { createLogger, stderrLines, streamLines, type Level, type LineWriter } from './log.js';
import { stdinSource, stdoutSink } from './supervisor/channel.js';
import type { SupervisorRpc } from './supervisor/rpc.js';
import { packageVersion } from './version.js';
import { httpProbe } from './warmup/probe.js';

/** The operator commands' bound on an XML-RPC call: restart's startProcess waits for startsecs. */
const COMMAND_RPC_TIMEOUT_MS = 60_000;

/** How long, at exit, queued output may take to reach the operating system. */
const EXIT_FLUSH_MS = 1000;

/** Every line to stderr goes through it, so that exit can wait for them. */
const stderr: LineWriter = stderrLines();
/** stdout's writes so far, once a command has written there. */
let flushStdout: () => Promise<void> = () => Promise.resolve();

async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  let config: Config;
  try {
    args = parseArgs(argv);
    // Asked for, so they go to stdout (a usage error goes to stderr with exit 2).
    if (args.help) {
      operatorStdout().write(args.usage);
      return 0;
    }
    if (args.version) {
      operatorStdout().write(`${packageVersion()}\n`);
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
    if (args.command === 'listen') return await listener(args, config);
    return await operatorCommand(args.command, args, config);
  } catch (err) {
    return usageOrConfigError(err);
  }
}

/** The listener: stdout is supervisord's protocol channel, and only the event channel writes to it. */
async function listener(args: Args, config: Config): Promise<number> {
  const log = createLogger(stderr.write, args.logLevel as Level);
  // Last resort: a promise started and not awaited must never end the listener unseen, nor at all.
  process.on('unhandledRejection', (reason) =>
    log.error('unhandled rejection; listener goes on', { reason: 'internal', error: errorStack(reason) }),
  );
  const output = stdoutSink();
  flushStdout = () => output.drained();
  return listen({
    config,
    dryRun: args.dryRun,
    log,
    input: stdinSource(),
    output,
    env: process.env,
    stopSignal: stopSignal(),
    // Without a handler SIGHUP would end the process, unlogged.
    onReload: (reload) => process.on('SIGHUP', reload),
  });
}

/** stdout for what an operator asked to see (help, version, check, status, restart); never the listener's. */
function operatorStdout(): LineWriter {
  const out = streamLines(process.stdout);
  flushStdout = () => out.flushed();
  return out;
}

/** check, status and restart: run by an operator, never as supervisord's listener, so they report on stdout. */
async function operatorCommand(command: Exclude<Command, 'listen'>, args: Args, config: Config): Promise<number> {
  const stdout = operatorStdout();
  const out = (text: string) => stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  switch (command) {
    case 'check':
      return check({
        config,
        haproxies: liveHaproxies(config),
        supervisor: liveSupervisor(config, COMMAND_RPC_TIMEOUT_MS),
        probe: args.probe ? httpProbe : null,
        out,
      });
    case 'status':
      return status({ config, haproxies: liveHaproxies(config), supervisor: liveSupervisorOrFail(config), json: args.json, out });
    case 'restart':
      // restart drains through the admin socket and waits for HAProxy to show the server UP again.
      if (config.haproxy.sockets.length === 0) {
        throw new ConfigError(config.file, 'haproxy', 'socket', 'required by restart; with the agent only, use supervisorctl restart');
      }
      return restart({
        config,
        haproxies: liveHaproxies(config),
        supervisor: liveSupervisorOrFail(config),
        clock: systemClock,
        out,
        args: args.restart,
        ...listenerStateOf(config),
        interrupt: interruptSignal(),
      });
  }
}

/** The reader of the listener's state file, for restart to see its warm-up outcomes; none without the file. */
function listenerStateOf(config: Config): { listenerState?: () => Promise<ListenerSnapshot | null> } {
  const path = config.listener.stateFile;
  return path === null ? {} : { listenerState: async () => (await readListenerFile(path)).snapshot };
}

/** status and restart cannot work without supervisord: a missing url is a config error (exit 2). */
function liveSupervisorOrFail(config: Config): SupervisorRpc {
  const rpc = liveSupervisor(config, COMMAND_RPC_TIMEOUT_MS);
  if (rpc === null) {
    throw new ConfigError(config.file, 'supervisor', 'url', 'required by this command: set it, or $SUPERVISOR_SERVER_URL');
  }
  return rpc;
}

function usageOrConfigError(err: unknown): number {
  if (err instanceof AppError && (err.code === 'CONFIG' || err.code === 'USAGE')) {
    // Nothing has touched HAProxy yet: say exactly where the problem is and stop.
    stderr.write(`supervisor-haproxy: ${err.message}\n`);
    if (err.code === 'USAGE') stderr.write(USAGE);
    return 2;
  }
  throw err;
}

/** Aborted on SIGINT (Ctrl-C) or SIGTERM, so that restart can put back what it changed before it exits. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new RestartInterrupted('SIGINT', 130)));
  process.once('SIGTERM', () => controller.abort(new RestartInterrupted('SIGTERM', 143)));
  return controller.signal;
}

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/**
 * Exits once what is written to stdout and stderr has reached the operating system: writes to pipes are
 * asynchronous in Node, and process.exit() drops what is still queued (the last acknowledgement, the line
 * saying why the listener stopped). Bounded, so a reader that stopped reading cannot keep the process alive;
 * process.exit() rather than waiting for the event loop to empty: sockets being torn down must not keep a
 * stopping process alive.
 */
async function exitFlushed(code: number): Promise<never> {
  process.exitCode = code;
  const flushed = Promise.all([stderr.flushed(), flushStdout().catch(() => undefined)]);
  await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, EXIT_FLUSH_MS))]);
  process.exit(code);
}

main(process.argv.slice(2)).then(exitFlushed, (err: unknown) => {
  stderr.write(`supervisor-haproxy: unexpected error: ${errorStack(err)}\n`);
  return exitFlushed(1);
});
