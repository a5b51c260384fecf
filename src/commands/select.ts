// Which supervisord processes a command acts on: names as operators type them, resolved against getAllProcessInfo (pure).

import type { Config } from '../config/types.js';
import { resolveProcess } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import type { ProcessInfo } from '../supervisor/rpc.js';
import { namespec } from '../supervisor/types.js';

/**
 * NAME may be `group:process`, `group:*`, a group (every process in it) or a process name (in any group),
 * as supervisorctl accepts them. `all` means every process the config maps, in supervisord's order.
 * Unknown names are a UsageError naming them all; duplicates are dropped, order is kept.
 */
export function selectProcesses(
  config: Config,
  infos: readonly ProcessInfo[],
  names: readonly string[] | 'all',
): ProcessInfo[] {
  if (names === 'all') {
    return infos.filter((i) => resolveProcess(config, { group: i.group, process: i.name })?.kind === 'mapped');
  }
  const out: ProcessInfo[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const matches = match(infos, name);
    if (matches.length === 0) unknown.push(name);
    for (const m of matches) if (!out.includes(m)) out.push(m);
  }
  if (unknown.length > 0) {
    throw new UsageError(`no such process in supervisord: ${unknown.join(', ')}`);
  }
  return out;
}

function match(infos: readonly ProcessInfo[], name: string): ProcessInfo[] {
  const colon = name.indexOf(':');
  if (colon >= 0) {
    const group = name.slice(0, colon);
    const process = name.slice(colon + 1);
    return infos.filter((i) => i.group === group && (process === '*' || i.name === process));
  }
  const group = infos.filter((i) => i.group === name);
  if (group.length > 0) return group;
  return infos.filter((i) => i.name === name);
}

export const nameOf = (i: ProcessInfo): string => namespec({ group: i.group, process: i.name });
