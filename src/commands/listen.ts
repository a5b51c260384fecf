// The default command: run as a supervisord [eventlistener:x] and keep HAProxy in step.

import { AgentAnswers } from '../agent/answers.js';
import { AgentServer } from '../agent/server.js';
import { AgentListenError, errorStack, errorText } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import { COMMAND_LINE } from '../config/positional.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { SocketApplier } from '../reconcile/applier.js';
import { Controller } from '../reconcile/controller.js';
import { DesiredState } from '../reconcile/desired.js';
import { buildSnapshot } from '../reconcile/snapshot.js';
import { readPreviousSnapshot, SnapshotFileWriter } from '../reconcile/snapshot-file.js';
import { runEventChannel, type ChannelEnd, type ChunkSource, type TokenSink } from '../supervisor/channel.js';
import type { SupervisorEvent } from '../supervisor/protocol.js';
import type { ProcessName } from '../supervisor/types.js';
import { httpProbe } from '../warmup/probe.js';
import { liveHaproxies, liveSupervisor } from './live.js';

interface ListenOptions {
  readonly config: Config;
  readonly dryRun: boolean;
  readonly log: Logger;
  /** supervisord → listener: stdin. */
  readonly input: ChunkSource;
  /** listener → supervisord: stdout, for protocol tokens only. The caller drains it before exiting. */
  readonly output: TokenSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  readonly stopSignal: Promise<string>;
  /** Registers what to do when asked to read the config again (SIGHUP). */
  readonly onReload?: (reload: () => void) => void;
}

/**
 * How long, at shutdown, warm-ups may take to unwind and pending HAProxy changes to be flushed: supervisord
 * SIGKILLs a listener that has not exited after stopwaitsecs (10 s by default).
 */
const FLUSH_MS = 2000;
/** The bound on all of shutdown but writing the last output (cli.ts's 1 s): within the 10 s of stopwaitsecs. */
const STOP_MS = 2500;

export async function listen(opts: ListenOptions): Promise<number> {
  const { log } = opts;
  const clock = systemClock;
  const self = selfName(opts.env);
  // One listener per supervisord: a pool of them would see gaps in poolserial on nearly every event,
  // each resyncing and fighting the others over the same servers.
  const pool = await poolSize(opts.config, self, log);
  if (pool !== null && pool > 1 && self !== null) {
    log.error('a pool of listeners: run exactly one; exiting', {
      pool: self.group,
      processes: pool,
      fix: `set numprocs = 1 in [eventlistener:${self.group}]`,
    });
    return 2;
  }
  let config = opts.config;
  let engine: Engine;
  try {
    engine = await startEngine(config, opts, self);
  } catch (err) {
    if (!(err instanceof AgentListenError)) throw err;
    // Before stdin is read: supervisord restarts the listener, and the event stays unacknowledged for it.
    log.error('agent cannot listen; listener stopping', { reason: 'agent', error: errorText(err.reason) });
    return 1;
  }

  // SIGTERM/SIGINT: stop reading stdin at once, so no event is acknowledged or acted on after this.
  const stopping = new AbortController();
  let signalName = '';
  void opts.stopSignal.then((name) => {
    signalName = name;
    stopping.abort();
  });
  // SIGHUP: the config file read again and checked; a good one replaces the running engine, a bad one
  // is logged and the listener goes on as it was. Events that come meanwhile wait for the new engine.
  let held: SupervisorEvent[] | null = null;
  const handle = (event: SupervisorEvent): void => {
    if (held !== null) held.push(event);
    else engine.controller.handleEvent(event);
  };
  let reloading: Promise<void> = Promise.resolve();
  opts.onReload?.(() => {
    reloading = reloading.then(async () => {
      if (stopping.signal.aborted) return;
      const next = reloadedConfig(config.file, opts.env, log);
      if (next === null) return;
      held = [];
      try {
        await stopEngine(engine, clock);
        if (stopping.signal.aborted) return;
        try {
          engine = await startEngine(next, opts, self);
          config = next;
          log.info('config reloaded', { config: next.file });
        } catch (err) {
          // The new [agent] listen cannot be bound: the old config, which could, goes on.
          log.error('config reload failed; the listener goes on with the config it had', { config: next.file, error: errorText(err) });
          engine = await startEngine(config, opts, self);
        }
      } finally {
        const backlog = held;
        held = null;
        for (const event of backlog) handleSafely(handle, event, log);
      }
    }).catch((err: unknown) => log.error('config reload failed', { error: errorStack(err) }));
  });
  let code: number;
  try {
    const end = await runEventChannel({
      input: opts.input,
      output: opts.output,
      signal: stopping.signal,
      onEvent: handle,
      // A bug in handling one event must not make supervisord resend it forever: acknowledged, logged.
      onError: (err, event) => eventFailed(err, event, log),
      onUndecodable: (err, raw) =>
        log.error('event could not be decoded; acknowledged and skipped', {
          event: raw.header['eventname'],
          serial: raw.header['serial'],
          reason: errorText(err),
        }),
    });
    code = reportEnd(end, signalName, log);
  } catch (err) {
    log.error('internal error; listener stopping', { reason: 'internal', error: errorStack(err) });
    code = 1;
  }
  // A reload in progress finishes first; the whole within the shutdown bound.
  await Promise.race([reloading.then(() => stopEngine(engine, clock)), clock.sleep(STOP_MS)]);
  log.info('listener stopped', { exit_code: code });
  return code;
}

/** What runs on one config: HAProxy connections, their appliers, the agent, the controller and the state file. */
interface Engine {
  readonly controller: Controller;
  readonly appliers: readonly SocketApplier[];
  readonly agent: { readonly server: AgentServer; readonly answers: AgentAnswers } | null;
  readonly snapshotFile: SnapshotFileWriter | null;
}

async function startEngine(config: Config, opts: ListenOptions, self: ProcessName | null): Promise<Engine> {
  const { log } = opts;
  const clock = systemClock;
  const clients = liveHaproxies(config);
  const desired = new DesiredState();
  const appliers = clients.map(
    (client, i) =>
      new SocketApplier(client, desired, {
        clock,
        log,
        heartbeatMs: config.haproxy.heartbeatMs,
        backoffMinMs: 250,
        backoffMaxMs: 5000,
        dryRun: opts.dryRun,
        stateFile: config.haproxy.serverStateFiles[i] ?? null,
      }),
  );
  desired.onChange(() => {
    for (const a of appliers) a.kick();
  });
  // [agent]: HAProxy instances elsewhere pull the same decisions with agent-check.
  let agent: Engine['agent'] = null;
  if (config.agent !== undefined) {
    const answers = new AgentAnswers(desired);
    const server = new AgentServer({ addresses: config.agent.listen, lookup: (ref) => answers.answerFor(ref), clock, log });
    try {
      await server.start();
    } catch (err) {
      answers.close();
      throw new AgentListenError(err);
    }
    agent = { server, answers };
  }
  const url = config.supervisor.url;
  const rpc = liveSupervisor(config);
  // The listener's own state file ([listener] state_file), not HAProxy's server state file.
  let snapshotFile: SnapshotFileWriter | null = null;
  // What the listener before this one warmed: at start-up, a process it finds running and ready is
  // adopted only if it is that same incarnation (it may have been restarted while no listener ran).
  const previous = config.listener.stateFile === null ? null : await readPreviousSnapshot(config.listener.stateFile, log);
  const controller: Controller = new Controller({
    config,
    desired,
    apis: clients,
    probe: httpProbe,
    clock,
    log,
    rpc,
    self,
    onChange: () => snapshotFile?.changed(),
    previous: previous?.processes ?? null,
  });
  if (config.listener.stateFile !== null) {
    snapshotFile = new SnapshotFileWriter(
      config.listener.stateFile,
      () => buildSnapshot(process.pid, clock.now(), controller.snapshot()),
      log,
    );
  }

  log.info('listener starting', {
    config: config.file,
    sockets: config.haproxy.sockets.map((s) => s.label).join(','),
    agent: config.agent?.listen.map((a) => a.label).join(','),
    rules: config.rules.length,
    supervisor: url,
    dry_run: opts.dryRun,
  });
  for (const a of appliers) a.start();
  controller.start();
  return { controller, appliers, agent, snapshotFile };
}

/**
 * Warm-ups unwound, pending HAProxy changes flushed, the state file written: all within STOP_MS, whatever
 * `[haproxy] timeout` is, since supervisord SIGKILLs a listener still there after stopwaitsecs.
 */
async function stopEngine(engine: Engine, clock: Clock): Promise<void> {
  const { controller, appliers, agent, snapshotFile } = engine;
  const done = (async () => {
    await controller.stop();
    await Promise.all(appliers.map((a) => a.whenIdle()));
  })();
  const stopped = (async () => {
    await Promise.race([done, clock.sleep(FLUSH_MS)]);
    // Each applier ends its loop once its command in flight returns: that may take [haproxy] timeout.
    await Promise.all(appliers.map((a) => a.stop()));
    await snapshotFile?.flush();
  })();
  // The agent's addresses are free again at once (a reload binds them anew); its answers end with it.
  await agent?.server.stop();
  agent?.answers.close();
  await Promise.race([stopped, clock.sleep(STOP_MS)]);
}

/**
 * How many processes the listener's own supervisord group has (numprocs), or null when it cannot tell: not
 * run by supervisord, or supervisord not answering (the start-up resync then says so).
 */
async function poolSize(config: Config, self: ProcessName | null, log: Logger): Promise<number | null> {
  const rpc = liveSupervisor(config);
  if (self === null || rpc === null) return null;
  try {
    return (await rpc.getAllProcessInfo()).filter((p) => p.group === self.group).length;
  } catch (err) {
    log.debug('cannot count the listener pool', { error: errorText(err) });
    return null;
  }
}

/** The config file read again for SIGHUP, or null (logged) when there is none or it is bad. */
function reloadedConfig(file: string, env: ListenOptions['env'], log: Logger): Config | null {
  if (file === COMMAND_LINE) {
    log.warn('SIGHUP ignored: the config is on the command line, there is no file to read again', {});
    return null;
  }
  try {
    return loadConfig(file, env);
  } catch (err) {
    log.error('config reload refused; the listener goes on with the config it has', {
      config: file,
      error: errorText(err),
    });
    return null;
  }
}

function handleSafely(handle: (event: SupervisorEvent) => void, event: SupervisorEvent, log: Logger): void {
  try {
    handle(event);
  } catch (err) {
    eventFailed(err, event, log);
  }
}

function eventFailed(err: unknown, event: SupervisorEvent, log: Logger): void {
  log.error('event could not be handled; acknowledged anyway', {
    event: event.meta.eventname,
    serial: event.meta.serial,
    error: errorText(err),
  });
}

/**
 * Logs why the channel ended, one distinct line per cause, and gives the exit code: 0 when asked to stop
 * (SIGTERM, SIGINT) or when supervisord closed stdin; 1 otherwise, so that a supervisord still there
 * restarts the listener (and redelivers what was not acknowledged).
 */
function reportEnd(end: ChannelEnd, signalName: string, log: Logger): number {
  switch (end.reason) {
    case 'stopped':
      log.info('listener stopping', { reason: signalName });
      return 0;
    case 'eof':
      log.info('stdin closed: supervisord is gone; listener stopping', { reason: 'eof' });
      return 0;
    case 'malformed':
      log.error('malformed input from supervisord; exiting so it restarts the listener', {
        reason: 'malformed',
        error: errorText(end.error),
      });
      return 1;
    case 'stdout-failed':
      log.error('stdout closed: supervisord is gone; listener stopping', { reason: 'stdout', error: errorText(end.error) });
      return 1;
    case 'stdin-failed':
      log.error('stdin failed; listener stopping', { reason: 'stdin', error: errorText(end.error) });
      return 1;
  }
}

function selfName(env: Readonly<Record<string, string | undefined>>): ProcessName | null {
  const process = env['SUPERVISOR_PROCESS_NAME'];
  const group = env['SUPERVISOR_GROUP_NAME'];
  if (process === undefined || group === undefined) return null;
  return { group, process };
}
