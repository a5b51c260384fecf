// supervisord sections for integration tests: app programs and the listener running the built CLI, and waiting on them.

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listenerCommand, slowAppPath } from './paths.js';
import { PortInUseError } from './ports.js';
import { waitFor } from './wait.js';

/** Environment of a slow-app (see test/support/slow-app.mjs): PORT, LISTEN_DELAY_MS, COLD_MS, WARM_AFTER, NEVER_WARM, HANG. */
export type AppEnv = Readonly<Record<string, string | number>>;

/** What every app section says unless its `extra` lines set the key (supervisord refuses a key given twice). */
const PROGRAM_DEFAULTS: readonly [string, string][] = [
  ['startsecs', '1'],
  ['stopwaitsecs', '5'],
  ['autorestart', 'true'],
];

/** A `[program:NAME]` running `node script` with env, logs in dir as NAME.out / NAME.err; `extra` lines end it. */
export function nodeProgram(dir: string, name: string, script: string, env: AppEnv, extra: readonly string[] = []): string {
  const given = new Set(extra.map((l) => l.split('=')[0]?.trim()));
  return [
    `[program:${name}]`,
    `command = ${process.execPath} ${script}`,
    `environment = ${Object.entries(env)
      .map(([k, v]) => `${k}="${String(v)}"`)
      .join(',')}`,
    ...PROGRAM_DEFAULTS.filter(([k]) => !given.has(k)).map(([k, v]) => `${k} = ${v}`),
    `stdout_logfile = ${join(dir, `${name}.out`)}`,
    `stderr_logfile = ${join(dir, `${name}.err`)}`,
    ...extra,
    '',
  ].join('\n');
}

/** A `[program:NAME]` running test/support/slow-app.mjs, logs in dir. `extra` lines go at the end of the section. */
export function appProgram(dir: string, name: string, env: AppEnv, extra: readonly string[] = []): string {
  return nodeProgram(dir, name, slowAppPath(), env, extra);
}

/**
 * Resolves once each named app (its stderr at dir/NAME.err, as appProgram puts it) says it listens. Throws
 * PortInUseError as soon as one says its port was taken (slow-app exits on EADDRINUSE), so that the caller
 * can start again with fresh ports.
 */
export async function appsListening(dir: string, names: readonly string[], timeoutMs = 20_000): Promise<void> {
  const said = async (name: string): Promise<string> => readFile(join(dir, `${name}.err`), 'utf8').catch(() => '');
  const taken = await waitFor(
    async () => {
      const logs = await Promise.all(names.map(said));
      const clashed = names.filter((_, i) => logs[i]?.includes('EADDRINUSE'));
      if (clashed.length > 0) return clashed;
      return logs.every((l) => l.includes('listening on')) ? [] : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `${names.join(', ')} to listen (${dir}/NAME.err)` },
  );
  if (taken.length > 0) throw new PortInUseError(`the port of ${taken.join(', ')} was taken`);
}

/** The `[eventlistener:listener]` (or opts.name) section running dist/cli.js (see listenerCommand) with the config at configPath. */
export function listenerProgram(
  dir: string,
  configPath: string,
  opts: { name?: string; events?: string; bufferSize?: number; extra?: readonly string[]; command?: readonly string[] } = {},
): string {
  return [
    `[eventlistener:${opts.name ?? 'listener'}]`,
    `command = ${(opts.command ?? listenerCommand()).join(' ')} --config ${configPath}`,
    `events = ${opts.events ?? 'PROCESS_STATE,PROCESS_GROUP'}`,
    `buffer_size = ${opts.bufferSize ?? 100}`,
    'autorestart = true',
    `stdout_logfile = ${join(dir, 'listener-stdout.log')}`,
    `stderr_logfile = ${join(dir, 'listener.log')}`,
    ...(opts.extra ?? []),
    '',
  ].join('\n');
}

/** Writes the listener's INI file and returns its path. */
export async function writeListenerConfig(dir: string, text: string): Promise<string> {
  const path = join(dir, 'listener.ini');
  await writeFile(path, text);
  return path;
}

/** The listener's stderr log (listenerProgram puts it at dir/listener.log). */
export function listenerLog(dir: string): Promise<string> {
  return readFile(join(dir, 'listener.log'), 'utf8');
}

/**
 * The listener's log from offset `from`, once it matches re. Its lines reach the file through
 * supervisord's pipe, a moment after what they tell has shown in HAProxy: wait for them, never read once.
 */
export async function waitForLog(dir: string, re: RegExp, what: string, from = 0, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    async () => {
      const log = (await listenerLog(dir)).slice(from);
      return re.test(log) ? log : undefined;
    },
    { timeoutMs, what: `the listener to log ${what}` },
  );
}

/** Resolves once the listener has asked supervisord for the truth at start-up. */
export async function waitForResync(dir: string): Promise<void> {
  await waitFor(async () => (await listenerLog(dir)).includes('msg=resync') || undefined, {
    timeoutMs: 30_000,
    what: 'the listener to resync at start-up',
  });
}

/**
 * Resolves once the listener logging to logPath has resynced (after byte `from`: this start, not an earlier
 * one), then written nothing for quietMs while `settled()` holds. supervisord queues events for an
 * eventlistener pool even while its process is stopped and delivers that backlog once it runs; the listener
 * replays it (maint, warm-up, ready), and nothing of that may be measured.
 */
export async function waitForListenerSettled(
  logPath: string,
  settled: () => Promise<boolean>,
  opts: { readonly quietMs: number; readonly timeoutMs: number; readonly from?: number },
): Promise<void> {
  // "msg=resync": the listener has asked supervisord for the truth and acted on it (see src/reconcile).
  await waitFor(async () => /msg="?resync"? /.test((await readFile(logPath, 'utf8')).slice(opts.from ?? 0)), {
    timeoutMs: opts.timeoutMs,
    intervalMs: 50,
    what: `the listener to resync (${logPath})`,
  });
  let size = -1;
  let since = Date.now();
  await waitFor(
    async () => {
      const now = (await stat(logPath)).size;
      if (now !== size) {
        size = now;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= opts.quietMs && (await settled());
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 100, what: `the listener to go quiet with the servers settled (${logPath})` },
  );
}
