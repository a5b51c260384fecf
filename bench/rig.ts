// The listener as the protocol and memory benchmarks run it: config, stand-ins and event mix.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBuiltCli } from '../test/support/paths.js';
import { ProtocolDriver } from './driver.js';
import { program, Supervisor, type ProgramName } from './frames.js';
import { startStubs, type Stubs } from './stubs.js';

export const BACKEND = 'site';

/** Programs the listener's config maps (no warm-up: ready on RUNNING), and the HAProxy server of each. */
export const MAPPED: readonly { readonly name: ProgramName; readonly server: string }[] = [
  { name: program('app1'), server: 'app1' },
  { name: program('app2'), server: 'app2' },
  { name: program('app3'), server: 'app3' },
  { name: program('café'), server: 'cafe' },
];

/** Programs it does not map; several non-ASCII, one outside the BMP (1 code point, 2 UTF-16 units, 4 bytes). */
export const UNMAPPED: readonly ProgramName[] = ['worker', 'wörker', '日本語', '🚀rocket', 'cron'].map(program);

/** A mapped program with a warm-up that passes at once against the stub worker's HTTP target. */
export const WARM = { name: program('warm'), server: 'warm' } as const;

export const ALL_PROGRAMS: readonly ProgramName[] = [...MAPPED.map((m) => m.name), ...UNMAPPED, WARM.name];

/** Event i of the mix: even ones for the mapped programs in turn, odd ones for the unmapped. */
export function mixedEvent(sup: Supervisor, i: number): Buffer {
  const half = i >> 1;
  const p = i % 2 === 0 ? (MAPPED[half % MAPPED.length] as (typeof MAPPED)[number]).name : (UNMAPPED[half % UNMAPPED.length] as ProgramName);
  return sup.step(p);
}

/** Event i of an unmapped-only stream: what the protocol path alone costs, with no HAProxy work behind it. */
export function unmappedEvent(sup: Supervisor, i: number): Buffer {
  return sup.step(UNMAPPED[i % UNMAPPED.length] as ProgramName);
}

export function listenerIni(haproxySocket: string, rpcSocket: string): string {
  const lines = [
    '[haproxy]',
    `socket = ${haproxySocket}`,
    'timeout = 2s',
    'heartbeat = 2s',
    '',
    '[supervisor]',
    `url = unix://${rpcSocket}`,
    '',
    '[warmup]',
    'interval = 10ms',
    'timeout = 1s',
    'deadline = 10s',
    '',
  ];
  for (const m of MAPPED) lines.push(`[program:${m.name.process}]`, `servers = ${BACKEND}/${m.server}`, '');
  lines.push(`[program:${WARM.name.process}]`, `servers = ${BACKEND}/${WARM.server}`, 'warmup = /ok', '');
  return lines.join('\n');
}

/**
 * Node flags for the listener: none, as the installed `supervisor-haproxy` runs (`#!/usr/bin/env node`), plus
 * any in BENCH_LISTENER_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (NODE_OPTIONS refuses those).
 */
function listenerNodeArgs(): string[] {
  return (process.env['BENCH_LISTENER_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
}

export interface RigOptions {
  /** Arguments after `--config FILE`, e.g. `--dry-run`. */
  readonly args?: readonly string[];
  /** Node flags before dist/cli.js: only the memory benchmark's live-heap run adds one (a preload). */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface ListenerRig {
  readonly stubs: Stubs;
  readonly driver: ProtocolDriver;
  /** supervisord as the listener has been told about it so far. */
  readonly sup: Supervisor;
  readonly stderrPath: string;
  stop(): Promise<void>;
}

/**
 * Starts the stand-ins and the built listener against them, and waits until it has resynced (one
 * getAllProcessInfo, answered with every program RUNNING, every server ready) and gone quiet.
 */
export async function startListenerRig(dir: string, tag: string, opts: RigOptions = {}): Promise<ListenerRig> {
  const haproxySocket = join(dir, `${tag}-haproxy.sock`);
  const rpcSocket = join(dir, `${tag}-rpc.sock`);
  const sup = new Supervisor(ALL_PROGRAMS);
  const stubs = await startStubs({
    haproxySocket,
    rpcSocket,
    servers: [...MAPPED.map((m) => ({ backend: BACKEND, server: m.server, port: 1 })), { backend: BACKEND, server: WARM.server, port: 'warmup' as const }],
    processes: sup.snapshot(),
    watch: [`${BACKEND}/${WARM.server}`],
  });
  const configPath = join(dir, `${tag}.ini`);
  await writeFile(configPath, listenerIni(haproxySocket, rpcSocket));
  const stderrPath = join(dir, `${tag}.log`);
  let driver: ProtocolDriver;
  try {
    const nodeArgs = [...(opts.nodeArgs ?? []), ...listenerNodeArgs()];
    driver = await ProtocolDriver.start(process.execPath, [...nodeArgs, requireBuiltCli(), '--config', configPath, ...(opts.args ?? [])], {
      stderrPath,
      // Not run by supervisord: no SUPERVISOR_* of an outer one may leak in.
      env: { ...opts.env, SUPERVISOR_SERVER_URL: '', SUPERVISOR_PROCESS_NAME: '', SUPERVISOR_GROUP_NAME: '' },
    });
  } catch (e) {
    await stubs.stop();
    throw e;
  }
  const deadline = Date.now() + 10_000;
  while ((await stubs.counts()).rpcCalls === 0) {
    if (Date.now() > deadline) throw await driver.explain(new Error('the listener never asked getAllProcessInfo'));
    await new Promise((r) => setTimeout(r, 20));
  }
  await stubs.quiet(300, 10_000);
  return {
    stubs,
    driver,
    sup,
    stderrPath,
    async stop() {
      await driver.stop();
      await stubs.stop();
    },
  };
}

/** What the stub HAProxy should show for each mapped server, from the state supervisord last reported. */
export function expectedStates(sup: Supervisor): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of [...MAPPED, WARM]) out[`${BACKEND}/${m.server}`] = sup.stateOf(m.name) === 'RUNNING' ? 'ready' : 'maint';
  return out;
}

/** The servers whose stub state differs from the expected one, as `site/app1: maint, expected ready`. */
export function mismatches(actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>>): string[] {
  return Object.entries(expected)
    .filter(([k, v]) => actual[k] !== v)
    .map(([k, v]) => `${k}: ${actual[k] ?? 'missing'}, expected ${v}`);
}
