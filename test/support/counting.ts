// The counting app (test/support/counting-app.mjs) under supervisord: its program section, its cold switch, its records.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ROOT } from './paths.js';
import { nodeProgram } from './programs.js';

/** Environment of a counting app besides PORT, NAME and STATE_DIR: LISTEN_DELAY_MS, WARM_AFTER_MS, COLD_STATUS, COLD_DELAY_MS. */
export type CountingEnv = Readonly<Record<string, string | number>>;

export function countingAppPath(): string {
  return resolve(ROOT, 'test', 'support', 'counting-app.mjs');
}

/** A `[program:NAME]` running the counting app on port, recording in stateDir; `extra` lines end the section. */
export function countingProgram(
  logDir: string,
  stateDir: string,
  name: string,
  port: number,
  env: CountingEnv = {},
  extra: readonly string[] = [],
): string {
  return nodeProgram(logDir, name, countingAppPath(), { PORT: port, NAME: name, STATE_DIR: stateDir, ...env }, extra);
}

/** Keeps the instance's site cold (every process of it, restarts included) until setCold(…, false). */
export async function setCold(stateDir: string, name: string, cold: boolean): Promise<void> {
  const file = join(stateDir, `${name}.cold`);
  if (cold) await writeFile(file, '');
  else await rm(file, { force: true });
}

/** Makes the instance's next processes start cold, and keep cold until setColdNext(…, false); the running one is unaffected. */
export async function setColdNext(stateDir: string, name: string, cold: boolean): Promise<void> {
  const file = join(stateDir, `${name}.cold-next`);
  if (cold) await writeFile(file, '');
  else await rm(file, { force: true });
}

export interface Visit {
  readonly pid: number;
  readonly cold: boolean;
  readonly path: string;
}

/** Every visitor request the instance has received so far, in order, across its processes. */
export async function readVisits(stateDir: string, name: string): Promise<Visit[]> {
  let text: string;
  try {
    text = await readFile(join(stateDir, `${name}.visits`), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [pid, state, path] = l.split(' ');
      return { pid: Number(pid), cold: state === 'cold', path: path ?? '' };
    });
}
