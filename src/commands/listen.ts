// The default command: run as a supervisord [eventlistener:x] and keep HAProxy in step.

import { AgentAnswers } from '../agent/answers.js';
import { AgentServer } from '../agent/server.js';
import { errorStack, errorText } from '../errors.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config/types.js';
import { HaproxyClient } from '../haproxy/client.js';
import type { Logger } from '../log.js';
import { SocketApplier } from '../reconcile/applier.js';
import { Controller } from '../reconcile/controller.js';
import { DesiredState } from '../reconcile/desired.js';
import { buildSnapshot } from '../reconcile/snapshot.js';
import { readPreviousSnapshot, SnapshotFileWriter } from '../reconcile/snapshot-file.js';
import { runEventChannel, type ChannelEnd, type ChunkSource, type TokenSink } from '../supervisor/channel.js';
import { SupervisorRpc } from '../supervisor/rpc.js';
import type { ProcessName } from '../supervisor/types.js';
import { httpProbe } from '../warmup/probe.js';

export interface ListenOptions {
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
}

/**
 * How long, at shutdown, warm-ups may take to unwind and pending HAProxy changes to be flushed: supervisord
 * SIGKILLs a listener that has not exited after stopwaitsecs (10 s by default).
 */
const FLUSH_MS = 2000;

export async function listen(opts: ListenOptions): Promise<number> {
  const { config, log } = opts;
  const clock = systemClock;
  const clients = config.haproxy.sockets.map(
    (address) => new HaproxyClient(address, { timeoutMs: config.haproxy.timeoutMs }),
  );
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
  const answers = config.agent === undefined ? null : new AgentAnswers(desired);
  const agent =
    answers === null || config.agent === undefined
      ? null
      : new AgentServer({ addresses: config.agent.listen, lookup: (ref) => answers.answerFor(ref), clock, log });
  const url = config.supervisor.url;
  const rpc =
    url === null
      ? null
      : new SupervisorRpc({
          url,
          username: config.supervisor.username,
          password: config.supervisor.password,
          timeoutMs: config.supervisor.timeoutMs,
        });
  const self = selfName(opts.env);
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
    rules: config.rules.length,
    supervisor: url,
    dry_run: opts.dryRun,
    agent: config.agent?.listen.map((a) => a.label).join(','),
  });
  try {
    await agent?.start();
  } catch (err) {
    // Before stdin is read: supervisord restarts the listener, and the event stays unacknowledged for it.
    log.error('agent cannot listen; listener stopping', { reason: 'agent', error: errorText(err) });
    return 1;
  }
  for (const a of appliers) a.start();
  controller.start();

  // SIGTERM/SIGINT: stop reading stdin at once, so no event is acknowledged or acted on after this.
  const stopping = new AbortController();
  let signalName = '';
  void opts.stopSignal.then((name) => {
    signalName = name;
    stopping.abort();
  });
  let code: number;
  try {
    const end = await runEventChannel({
      input: opts.input,
      output: opts.output,
      signal: stopping.signal,
      onEvent: (event) => controller.handleEvent(event),
      // A bug in handling one event must not make supervisord resend it forever: acknowledged, logged.
      onError: (err, event) =>
        log.error('event could not be handled; acknowledged anyway', {
          event: event.meta.eventname,
          serial: event.meta.serial,
          error: errorText(err),
        }),
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
  const unwound = (async () => {
    await controller.stop();
    await Promise.all(appliers.map((a) => a.whenIdle()));
  })();
  await Promise.race([unwound, clock.sleep(FLUSH_MS)]);
  await Promise.all(appliers.map((a) => a.stop()));
  await snapshotFile?.flush();
  await agent?.stop();
  answers?.close();
  log.info('listener stopped', { exit_code: code });
  return code;
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
