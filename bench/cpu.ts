// CPU time a process has used, from /proc/<pid>/stat (Linux): user + system, all its threads.

import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux's usual builds). */
const TICKS_PER_SECOND = 100;

/** Milliseconds of CPU the process has used so far (in ticks of 10 ms: read it over seconds, not per event). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`/proc/${pid}/stat: no utime/stime in ${JSON.stringify(stat.slice(0, 120))}`);
  return (ticks * 1000) / TICKS_PER_SECOND;
}
