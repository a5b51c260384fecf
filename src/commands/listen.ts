// The default command: run as a supervisord [eventlistener:x] and keep HAProxy in step.

import { errorText } from '../errors.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config/types.js';
import { HaproxyClient } from '../haproxy/client.js';
import { v8Heap } from '../heap/v8.js';
import { HeapWatch } from '../heap/watch.js';
import type { Logger } from '../log.js';
import { SocketApplier } from '../reconcile/applier.js';
import { Controller } from '../reconcile/controller.js';
import { DesiredState } from '../reconcile/desired.js';
import { buildSnapshot } from '../reconcile/snapshot.js';
import { StateFileWriter } from '../reconcile/state-file.js';
import { runEventChannel, type ChunkSource, type TokenSink } from '../supervisor/channel.js';
import { SupervisorRpc } from '../supervisor/rpc.js';
import type { ProcessName } from '../supervisor/types.js';
import { httpProbe } from '../warmup/probe.js';

export interface ListenOptions {
  readonly config: Config;
  readonly dryRun: boolean;
  readonly log: Logger;
  /** supervisord → listener: stdin. */
  readonly input: ChunkSource;
  /** listener → supervisord: stdout, for protocol tokens only. */
  readonly output: TokenSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  readonly stopSignal: Promise<string>;
}

/**
 * Old-space garbage let pile up before the heap watch collects it, and how often it looks while events flow.
 * With 512 KB and 1 s, a warm-up cycle (probe, connection, timers) promoted enough between two looks for V8 to
 * commit more pages: RSS after 10,000 cycles ended 1.7–3.0 MB above the figure after 1,000 in the memory
 * benchmark. With these, −1.5 to +0.9 MB in five runs (bench/memory.ts); in a flood of events a full
 * collection (9 ms here) comes about every 50,000 events.
 */
const HEAP_SLACK_BYTES = 256 * 1024;
const HEAP_CHECK_MS = 100;

/** How long, at shutdown, pending HAProxy changes may still be flushed (supervisord SIGKILLs after stopwaitsecs). */
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
  let stateFile: StateFileWriter | null = null;
  const controller: Controller = new Controller({
    config,
    desired,
    apis: clients,
    probe: httpProbe,
    clock,
    log,
    rpc,
    self,
    onChange: () => stateFile?.changed(),
  });
  if (config.listener.stateFile !== null) {
    stateFile = new StateFileWriter(
      config.listener.stateFile,
      () => buildSnapshot(process.pid, clock.now(), controller.snapshot()),
      log,
    );
  }

  const heapProbe = v8Heap();
  const heap =
    heapProbe === null
      ? null
      : new HeapWatch({ clock, log, probe: heapProbe, slackBytes: HEAP_SLACK_BYTES, checkMs: HEAP_CHECK_MS });

  log.info('listener starting', {
    config: config.file,
    sockets: config.haproxy.sockets.map((s) => s.label).join(','),
    rules: config.rules.length,
    supervisor: url,
    dry_run: opts.dryRun,
    // false when node runs dist/cli.js without the shebang's --expose-gc: RSS then grows by up to ~8 MB.
    heap_watch: heap !== null,
  });
  for (const a of appliers) a.start();
  controller.requestResync('start-up');

  let code = 0;
  const channel = runEventChannel({
    input: opts.input,
    output: opts.output,
    onEvent: (event) => {
      controller.handleEvent(event);
      heap?.activity();
    },
    // A bug in handling one event must not make supervisord resend it forever: acknowledged, logged.
    onError: (err, event) =>
      log.error('event could not be handled; acknowledged anyway', {
        event: event.meta.eventname,
        serial: event.meta.serial,
        error: errorText(err),
      }),
  }).then(
    () => 'eof',
    (err: unknown) => {
      log.error('malformed input from supervisord; exiting so it restarts the listener', {
        error: errorText(err),
      });
      code = 1;
      return 'protocol-error';
    },
  );
  const why = await Promise.race([channel, opts.stopSignal]);
  log.info('listener stopping', { reason: why });
  heap?.stop();
  await controller.stop();
  await Promise.race([Promise.all(appliers.map((a) => a.whenIdle())), clock.sleep(FLUSH_MS)]);
  await Promise.all(appliers.map((a) => a.stop()));
  await stateFile?.flush();
  return code;
}

function selfName(env: Readonly<Record<string, string | undefined>>): ProcessName | null {
  const process = env['SUPERVISOR_PROCESS_NAME'];
  const group = env['SUPERVISOR_GROUP_NAME'];
  if (process === undefined || group === undefined) return null;
  return { group, process };
}
