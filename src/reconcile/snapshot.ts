// What the listener knows, as data it can hand to `status` through its state file (pure): build and read.

import { PROCESS_STATES, type ProcessState } from '../supervisor/types.js';

/** `stopgap`: warming, and ready early because its backend would otherwise have no server in service. */
const WARMUP_STATUSES = ['none', 'warming', 'stopgap', 'passed', 'deadline', 'forced-ready', 'failed', 'cancelled'] as const;
export type WarmupStatus = (typeof WARMUP_STATUSES)[number];

export interface ProcessSnapshot {
  readonly state: ProcessState | null;
  readonly pid: number | null;
  readonly warmup: WarmupStatus;
  /** When the warm-up status last changed (epoch ms); null before any. */
  readonly warmupAt: number | null;
  /** Tries of the last finished warm-up. */
  readonly tries: number | null;
  readonly lastError: string | null;
}

export interface ListenerSnapshot {
  readonly version: 1;
  /** The listener's own pid, so a reader can tell a file left by a dead listener. */
  readonly pid: number;
  readonly updatedAt: number;
  /** By namespec, `group:process`. */
  readonly processes: Readonly<Record<string, ProcessSnapshot>>;
}

export function buildSnapshot(pid: number, now: number, processes: Iterable<[string, ProcessSnapshot]>): ListenerSnapshot {
  return { version: 1, pid, updatedAt: now, processes: Object.fromEntries(processes) };
}

/** Reads a state file's text; throws an Error saying what is wrong with it. */
export function parseSnapshot(text: string): ListenerSnapshot {
  const v: unknown = JSON.parse(text);
  if (!isObject(v) || v['version'] !== 1 || typeof v['pid'] !== 'number' || typeof v['updatedAt'] !== 'number' || !isObject(v['processes'])) {
    throw new Error('not a supervisor-haproxy state file (version 1)');
  }
  const processes: Record<string, ProcessSnapshot> = {};
  for (const [name, p] of Object.entries(v['processes'])) {
    if (!isObject(p)) throw new Error(`process ${name}: not an object`);
    const state = p['state'];
    const warmup = p['warmup'];
    if (state !== null && !(PROCESS_STATES as readonly unknown[]).includes(state)) throw new Error(`process ${name}: bad state`);
    if (!(WARMUP_STATUSES as readonly unknown[]).includes(warmup)) throw new Error(`process ${name}: bad warmup`);
    processes[name] = {
      state: state as ProcessState | null,
      pid: numOrNull(p['pid']),
      warmup: warmup as WarmupStatus,
      warmupAt: numOrNull(p['warmupAt']),
      tries: numOrNull(p['tries']),
      lastError: typeof p['lastError'] === 'string' ? p['lastError'] : null,
    };
  }
  return { version: 1, pid: v['pid'], updatedAt: v['updatedAt'], processes };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
