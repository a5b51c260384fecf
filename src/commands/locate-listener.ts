// Finds the listener for this config among supervisord's processes: reads /proc for findListener's rule.

import { readFile, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/types.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { configArgs, findListener, isLocalUrl, type ListenerFinding } from './find-listener.js';
import type { ListenerView } from './report.js';

export async function locateListener(config: Config, infos: readonly ProcessInfo[], stateFile: ListenerView | null): Promise<ListenerFinding> {
  const running = infos.filter((i) => i.state === 'RUNNING' && i.pid > 0);
  const configsOf = new Map(await Promise.all(running.map(async (i) => [i.pid, await configsOfPid(i.pid)] as const)));
  return findListener({
    infos,
    configFile: config.file,
    configReal: await real(resolve(config.file)),
    configsOf,
    stateFile,
    local: config.supervisor.url !== null && isLocalUrl(config.supervisor.url),
  });
}

/** The config files a process's command line names, resolved as that process sees them; null: /proc says nothing. */
async function configsOfPid(pid: number): Promise<string[] | null> {
  let argv: string[];
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
  const given = configArgs(argv);
  // A relative path is relative to the process's directory (supervisord's `directory=`); unreadable: its own.
  const cwd = given.some((p) => !isAbsolute(p)) ? await readlink(`/proc/${pid}/cwd`).catch(() => '/') : '/';
  return Promise.all(given.map((p) => real(resolve(cwd, p))));
}

async function real(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}
