// One side of the chaos benchmark: haproxy with health checks in front of counting apps under supervisord, with or without the listener.

import { mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Teardown } from '../demo/teardown.js';
import { countingProgram, readVisits } from '../test/support/counting.js';
import { startHaproxy, statusFromShowStat, type HaproxyInstance } from '../test/support/haproxy.js';
import { freePort } from '../test/support/ports.js';
import { listenerProgram, waitForResync, writeListenerConfig } from '../test/support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../test/support/supervisord.js';
import { waitFor } from '../test/support/wait.js';

export const BACKEND = 'site';
export const LISTENER = 'listener';

/** How an instance behaves after each start: a boot, then a cold spell where pages are slow. */
export const APP = { listenDelayMs: 500, warmAfterMs: 2000, coldDelayMs: 300 } as const;
/** The listener's warm-up request timeout: a cold page (COLD_DELAY_MS) is too slow to pass. */
const WARMUP_TIMEOUT = '200ms';

export interface ChaosStack {
  readonly hap: HaproxyInstance;
  readonly sup: SupervisordInstance;
  readonly names: readonly string[];
  readonly siteUrl: string;
  readonly withListener: boolean;
  /** Servers whose `show stat` status is not exactly UP, with what it is. */
  notUp(): Promise<Record<string, string>>;
  /** Every instance answers its site warm when asked directly (not as a visitor). */
  allWarm(): Promise<boolean>;
  /** Visitor requests answered by an instance that was still cold, over every process of every instance. */
  coldVisits(): Promise<number>;
  /** Pid supervisord reports for a program; 0 when it is not running. */
  pid(program: string): Promise<number>;
}

function listenerIni(socket: string, stateFile: string, names: readonly string[]): string {
  const lines = [
    '[haproxy]',
    `socket = ${socket}`,
    'timeout = 1s',
    'heartbeat = 500ms',
    `server_state_file = ${stateFile}`,
    '',
    '[listener]',
    `state_file = ${stateFile}.listener.json`,
    '',
    '[warmup]',
    'interval = 100ms',
    `timeout = ${WARMUP_TIMEOUT}`,
    'deadline = 60s',
    '',
  ];
  for (const n of names) lines.push(`[program:${n}]`, `servers = ${BACKEND}/${n}`, 'warmup = /site', '');
  return lines.join('\n');
}

/** GET /site straight to the instance (no X-Forwarded-For: not a visitor) answers from a warm app. */
function warm(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/site', agent: false }, (res) => {
      res.resume();
      resolve(String(res.headers['x-app'] ?? '').endsWith(' warm'));
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startChaosStack(
  opts: {
    readonly dir: string;
    readonly instances: number;
    readonly withListener: boolean;
    /** `startsecs` of the listener's section; supervisord's default (1) when null. */
    readonly listenerStartsecs: number | null;
  },
  teardown: Teardown,
): Promise<ChaosStack> {
  const supDir = join(opts.dir, 'supervisor');
  const appDir = join(opts.dir, 'apps');
  await mkdir(supDir, { recursive: true });
  await mkdir(appDir, { recursive: true });
  const names = Array.from({ length: opts.instances }, (_, i) => `app${i + 1}`);
  const ports = await Promise.all(names.map(() => freePort()));
  const frontendPort = await freePort();
  const stateFile = join(opts.dir, 'server-state');

  const hap = await teardown.own(
    'haproxy',
    startHaproxy({
      dir: join(opts.dir, 'haproxy'),
      frontends: [{ name: 'www', port: frontendPort, backend: BACKEND }],
      backends: [
        {
          name: BACKEND,
          // Like a real site: `/` passes as soon as the port answers, long before the site is warm.
          options: ['option httpchk GET /'],
          servers: names.map((name, i) => ({ name, port: ports[i] as number, check: true, options: 'inter 500ms rise 2 fall 2' })),
        },
      ],
      // haproxy.cfg.example's reload settings on both sides; the state file only where the listener keeps it.
      global: [...(opts.withListener ? [`server-state-file ${stateFile}`] : []), 'hard-stop-after 30s'],
      defaults: ['option forwardfor', 'option idle-close-on-response', ...(opts.withListener ? ['load-server-state-from-file global'] : [])],
    }),
    (h) => h.stop(),
  );
  const socket = hap.sockets[0] as string;
  const env = { LISTEN_DELAY_MS: APP.listenDelayMs, WARM_AFTER_MS: APP.warmAfterMs, COLD_STATUS: 200, COLD_DELAY_MS: APP.coldDelayMs };
  const sections = names.map((n, i) => countingProgram(supDir, appDir, n, ports[i] as number, env));
  if (opts.withListener) {
    const configPath = await writeListenerConfig(supDir, listenerIni(socket, stateFile, names));
    const extra = opts.listenerStartsecs === null ? [] : [`startsecs = ${opts.listenerStartsecs}`];
    sections.push(listenerProgram(supDir, configPath, { extra }));
  }
  const sup = await teardown.own('supervisord', startSupervisord({ dir: supDir, programs: sections.join('\n') }), (s) => s.stop());
  if (opts.withListener) await waitForResync(supDir);

  const notUp = async (): Promise<Record<string, string>> => {
    const csv = await hap.cmd(`show stat ${BACKEND} 4 -1`);
    const out: Record<string, string> = {};
    for (const n of names) {
      const status = statusFromShowStat(csv, n) ?? '?';
      if (status !== 'UP') out[n] = status;
    }
    return out;
  };
  await waitFor(async () => Object.keys(await notUp()).length === 0, { timeoutMs: 30_000, what: `every server of ${BACKEND} UP` });
  const allWarm = async (): Promise<boolean> => (await Promise.all(ports.map(warm))).every(Boolean);
  await waitFor(allWarm, { timeoutMs: 30_000, what: 'every instance warm' });

  return {
    hap,
    sup,
    names,
    siteUrl: `http://127.0.0.1:${frontendPort}/site`,
    withListener: opts.withListener,
    notUp,
    allWarm,
    async coldVisits() {
      const all = await Promise.all(names.map((n) => readVisits(appDir, n)));
      return all.reduce((sum, visits) => sum + visits.filter((v) => v.cold).length, 0);
    },
    async pid(program) {
      const { stdout } = await sup.ctl('pid', program);
      const n = Number(stdout.trim());
      return Number.isInteger(n) ? n : 0;
    },
  };
}
