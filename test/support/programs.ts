// supervisord sections for integration tests: slow-app programs and the listener running the built CLI.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBuiltCli, slowAppPath } from './paths.js';
import { waitFor } from './wait.js';

/** Environment of a slow-app (see demo/slow-app.mjs): PORT, LISTEN_DELAY_MS, COLD_MS, WARM_AFTER, NEVER_WARM, HANG. */
export type AppEnv = Readonly<Record<string, string | number>>;

const envLine = (env: AppEnv): string =>
  Object.entries(env)
    .map(([k, v]) => `${k}="${String(v)}"`)
    .join(',');

/** A `[program:NAME]` running demo/slow-app.mjs, logs in dir. `extra` lines go at the end of the section. */
export function appProgram(dir: string, name: string, env: AppEnv, extra: readonly string[] = []): string {
  return [
    `[program:${name}]`,
    `command = ${process.execPath} ${slowAppPath()}`,
    `environment = ${envLine(env)}`,
    'startsecs = 1',
    'stopwaitsecs = 5',
    'autorestart = true',
    `stdout_logfile = ${join(dir, `${name}.out`)}`,
    `stderr_logfile = ${join(dir, `${name}.err`)}`,
    ...extra,
    '',
  ].join('\n');
}

/** The `[eventlistener:listener]` section running dist/cli.js with the config at configPath. */
export function listenerProgram(
  dir: string,
  configPath: string,
  opts: { events?: string; bufferSize?: number; extra?: readonly string[] } = {},
): string {
  return [
    '[eventlistener:listener]',
    `command = ${process.execPath} ${requireBuiltCli()} --config ${configPath}`,
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

/** Resolves once the listener has asked supervisord for the truth at start-up. */
export async function waitForResync(dir: string): Promise<void> {
  await waitFor(async () => (await listenerLog(dir)).includes('msg=resync') || undefined, {
    timeoutMs: 15_000,
    what: 'the listener to resync at start-up',
  });
}
