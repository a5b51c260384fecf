// Resident memory of a process from /proc/<pid>/status (Linux): VmRSS now and VmHWM, its peak.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Rss {
  /** Bytes resident now. */
  readonly rss: number;
  /** Peak resident bytes so far. */
  readonly hwm: number;
}

export async function readRss(pid: number): Promise<Rss> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (m === null) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The median VmRSS of `samples` readings `everyMs` apart (the peak is the last reading's). */
export async function steadyRss(pid: number, samples = 5, everyMs = 100): Promise<Rss> {
  const readings: Rss[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(everyMs);
    readings.push(await readRss(pid));
  }
  const sorted = readings.map((r) => r.rss).sort((a, b) => a - b);
  return { rss: sorted[Math.floor(sorted.length / 2)] as number, hwm: (readings[readings.length - 1] as Rss).hwm };
}

/** VmRSS of a bare `node -e` that only idles, after `settleMs`: what any Node process costs. */
export async function bareNodeRss(settleMs = 1000): Promise<Rss> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await sleep(settleMs);
    return await steadyRss(child.pid as number);
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
}
