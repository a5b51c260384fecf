// Benchmark: a seeded random stream of restarts, kills, stops and HAProxy reloads under load, health checks alone against the listener.

import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { readVisits } from '../test/support/counting.js';
import { startLoad } from '../test/support/load.js';
import { startStack, type Stack } from '../test/support/stack.js';
import type { Teardown } from '../test/support/teardown.js';
import { waitFor } from '../test/support/wait.js';
import { chaosEvents, type ChaosAction, type ChaosEvent } from './chaos-events.js';
import { renderComparison } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { count, duration } from './format.js';
import { formatFailures, paragraphs } from '../test/support/figures.js';

const INSTANCES = 4;
const LISTENER = 'listener';
/** How an instance behaves after each start: a boot, then a cold spell where pages are slow. */
const APP = { listenDelayMs: 500, warmAfterMs: 2000, coldDelayMs: 300 } as const;
/** The listener's warm-up request timeout: a cold page (COLD_DELAY_MS) is too slow to pass. */
const WARMUP_TIMEOUT = '200ms';
const CLIENTS = 6;
const REQUEST_TIMEOUT_MS = 10_000;
/** How long the end may take to be all UP before the side is reported as not recovered. */
const RECOVERY_TIMEOUT_MS = 60_000;

interface SideResult {
  readonly requests: number;
  readonly failed: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly cold: number;
  /**
   * From the end of the last event's action until every server shows UP and every instance is warm (all
   * capacity back, none of it cold); NaN if not within RECOVERY_TIMEOUT_MS.
   */
  readonly recoveryMs: number;
  readonly notRecovered: Readonly<Record<string, string>>;
  readonly actions: Readonly<Record<ChaosAction, number>>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One side: haproxy with health checks in front of counting apps under supervisord, with or without the listener. */
interface ChaosStack extends Stack {
  readonly withListener: boolean;
}

async function startChaosStack(dir: string, withListener: boolean, listenerStartsecs: number | null, teardown: Teardown): Promise<ChaosStack> {
  const stateFile = join(dir, 'server-state');
  const env = { LISTEN_DELAY_MS: APP.listenDelayMs, WARM_AFTER_MS: APP.warmAfterMs, COLD_STATUS: 200, COLD_DELAY_MS: APP.coldDelayMs };
  const stack = await startStack(
    {
      dir,
      apps: Array.from({ length: INSTANCES }, (_, i) => ({ name: `app${i + 1}`, kind: 'counting' as const, env })),
      // Like a real site: `/` passes as soon as the port answers, long before the site is warm.
      check: 'inter 500ms rise 2 fall 2',
      healthPath: '/',
      // haproxy.cfg.example's reload settings on both sides; the state file only where the listener keeps it.
      global: [...(withListener ? [`server-state-file ${stateFile}`] : []), 'hard-stop-after 30s'],
      defaults: ['option forwardfor', 'option idle-close-on-response', ...(withListener ? ['load-server-state-from-file global'] : [])],
      listeners: withListener
        ? [
            {
              haproxy: ['timeout = 1s', 'heartbeat = 500ms', `server_state_file = ${stateFile}`],
              sections: ['[listener]', `state_file = ${stateFile}.listener.json`, ''],
              warmup: ['interval = 100ms', `timeout = ${WARMUP_TIMEOUT}`, 'deadline = 60s'],
              extra: listenerStartsecs === null ? [] : [`startsecs = ${listenerStartsecs}`],
            },
          ]
        : [],
    },
    teardown,
  );
  await stack.waitAllUp(30_000);
  await waitFor(() => allWarm(stack), { timeoutMs: 30_000, what: 'every instance warm' });
  return Object.assign(stack, { withListener });
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

/** Every instance answers its site warm when asked directly (not as a visitor). */
const allWarm = async (stack: Stack): Promise<boolean> => (await Promise.all(stack.servers.map((n) => warm(stack.ports[n] as number)))).every(Boolean);

/** Servers whose `show stat` status is not exactly UP, with what it is. */
const notUp = async (stack: Stack): Promise<Record<string, string>> =>
  Object.fromEntries(Object.entries(await stack.statuses()).filter(([, status]) => status !== 'UP'));

/** Visitor requests answered by an instance that was still cold, over every process of every instance. */
async function coldVisits(stack: Stack): Promise<number> {
  const all = await Promise.all(stack.servers.map((n) => readVisits(stack.appDir, n)));
  return all.reduce((sum, visits) => sum + visits.filter((v) => v.cold).length, 0);
}

async function ctl(stack: ChaosStack, ...args: string[]): Promise<void> {
  const res = await stack.sup.ctl(...args);
  // Exit 1 and "not running"/"already started" can happen when a kill and a restart cross; not an error of the run.
  if (res.code !== 0 && !/not running|already started/i.test(res.stdout + res.stderr)) {
    throw new Error(`supervisorctl ${args.join(' ')}: ${(res.stdout + res.stderr).trim()}`);
  }
}

async function kill9(stack: ChaosStack, program: string): Promise<void> {
  const pid = await stack.pid(program);
  if (pid <= 0) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited meanwhile
  }
}

async function play(stack: ChaosStack, e: ChaosEvent): Promise<void> {
  const name = stack.servers[e.instance] as string;
  switch (e.action) {
    case 'restart':
      return ctl(stack, 'restart', name);
    case 'kill-instance':
      return kill9(stack, name);
    case 'stop-start':
      await ctl(stack, 'stop', name);
      await sleep(e.downMs);
      return ctl(stack, 'start', name);
    case 'kill-listener':
      // Health checks alone have no listener to kill: the same stream, one event fewer in effect.
      return stack.withListener ? kill9(stack, LISTENER) : undefined;
    case 'reload-haproxy':
      return stack.hap.reload();
  }
}

/**
 * BENCH_LISTENER_STARTSECS=N sets the listener's `startsecs`: supervisord sends events only to a listener that
 * is RUNNING, so after a kill -9 of the listener, events wait until startsecs has passed.
 */
function listenerStartsecs(env: NodeJS.ProcessEnv): number | null {
  const raw = env['BENCH_LISTENER_STARTSECS'];
  if (raw === undefined || raw === '') return null;
  if (!/^\d+$/.test(raw)) throw new Error(`BENCH_LISTENER_STARTSECS must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

async function runSide(ctx: BenchContext, label: string, withListener: boolean, events: readonly ChaosEvent[]): Promise<SideResult> {
  const stack = await startChaosStack(join(ctx.dir, withListener ? 'listener' : 'checks'), withListener, listenerStartsecs(process.env), ctx.teardown);
  const coldBefore = await coldVisits(stack);
  const load = await startLoad({ url: stack.siteUrl, concurrency: CLIENTS, timeoutMs: REQUEST_TIMEOUT_MS });
  ctx.teardown.add(`load (${label})`, () => load.kill());
  ctx.progress(`${label}: all UP and warm; ${events.length} events under load (${CLIENTS} clients)`);
  const actions = { restart: 0, 'kill-instance': 0, 'stop-start': 0, 'kill-listener': 0, 'reload-haproxy': 0 };
  for (const [i, e] of events.entries()) {
    await play(stack, e);
    actions[e.action]++;
    // No pause after the last one: the recovery time runs from the moment its action has completed.
    if (i < events.length - 1) await sleep(e.gapMs);
  }
  const end = Date.now();
  let recoveryMs = Number.NaN;
  let notRecovered: Record<string, string> = {};
  while (Date.now() - end < RECOVERY_TIMEOUT_MS) {
    notRecovered = await notUp(stack);
    if (Object.keys(notRecovered).length === 0 && (await allWarm(stack))) {
      recoveryMs = Date.now() - end;
      break;
    }
    await sleep(20);
  }
  const result = await load.stop();
  const cold = (await coldVisits(stack)) - coldBefore;
  ctx.progress(`${label}: ${result.requests} requests, ${result.failed} failed, ${cold} served cold`);
  await stack.stop();
  return { requests: result.requests, failed: result.failed, failures: result.failures, cold, recoveryMs, notRecovered, actions };
}

const startsecsNote = (n: number | null): string =>
  n === null ? "supervisord's default startsecs (1)" : `startsecs = ${n} (BENCH_LISTENER_STARTSECS)`;

function describe(e: ChaosEvent | undefined): string {
  if (e === undefined) return 'none';
  const app = `app${e.instance + 1}`;
  switch (e.action) {
    case 'restart':
      return `supervisorctl restart ${app}`;
    case 'kill-instance':
      return `kill -9 of ${app}`;
    case 'stop-start':
      return `stop and start of ${app}`;
    case 'kill-listener':
      return 'kill -9 of the listener';
    case 'reload-haproxy':
      return 'a haproxy soft reload';
  }
}

async function run(ctx: BenchContext): Promise<string> {
  const seed = ctx.seed ?? randomInt(0, 2 ** 32 - 1);
  const durationMs = ctx.quick ? 15_000 : 40_000;
  const events = chaosEvents(seed, { instances: INSTANCES, durationMs, minGapMs: 500, maxGapMs: 2000 });
  ctx.progress(`seed ${seed} (again with --seed ${seed}); ${events.length} events, about ${durationMs / 1000} s of pauses between them per side`);
  const checks = await runSide(ctx, 'health checks alone', false, events);
  const listener = await runSide(ctx, 'with the listener', true, events);

  const n = (f: (r: SideResult) => number, format: (v: number) => string, label: string, noRatio = false) => ({
    label,
    baseline: f(checks),
    subject: f(listener),
    format,
    noRatio,
  });
  const table = renderComparison({
    baselineName: 'health checks alone',
    subjectName: 'with the listener',
    figures: [
      n((r) => r.requests, count, 'requests'),
      n((r) => r.failed, count, 'failed'),
      n((r) => r.cold, count, 'served cold'),
      n((r) => r.recoveryMs, duration, 'last event done → all UP and warm'),
    ],
  });
  const a = listener.actions;
  const notes = [
    ['health checks alone', checks],
    ['with the listener', listener],
  ] as const;
  const extra = notes
    .flatMap(([name, r]) => [
      Object.keys(r.failures).length > 0 ? `failures, ${name}: ${formatFailures(r.failures)}` : null,
      Number.isNaN(r.recoveryMs)
        ? `not all UP and warm ${RECOVERY_TIMEOUT_MS / 1000} s after the last event, ${name}: not UP ${JSON.stringify(r.notRecovered)}`
        : null,
    ])
    .filter((l) => l !== null)
    .map((l) => `${l}\n`)
    .join('');
  const met = listener.failed === 0 && listener.cold === 0 && !Number.isNaN(listener.recoveryMs);
  return (
    paragraphs(
      `Seed ${seed} (\`npm run bench -- chaos --seed ${seed}\` replays the stream). ${INSTANCES} counting-app instances ` +
        `behind haproxy (\`check inter 500ms rise 2 fall 2\`, GET /), ${CLIENTS} keep-alive clients requesting /site ` +
        `through the frontend. Each start of an instance opens its port after ${APP.listenDelayMs} ms and is cold for ` +
        `${APP.warmAfterMs} ms more (pages take ${APP.coldDelayMs} ms). The same ${events.length} events on both sides, one ` +
        `after the other with 0.5-2 s between them: supervisorctl restart ×${a.restart}, kill -9 of an instance ` +
        `×${a['kill-instance']}, stop, 0.5-2 s, start ×${a['stop-start']}, kill -9 of the listener ×${a['kill-listener']} ` +
        `(nothing to kill with health checks alone), haproxy soft reload (-sf) ×${a['reload-haproxy']}. Both haproxys have ` +
        `haproxy.cfg.example's reload settings; only the listener's side has the server state file. The last event, ` +
        `after which the time until every server is UP and every instance warm is taken, is ` +
        `${describe(events[events.length - 1])}. The listener's supervisord section has ` +
        `${startsecsNote(listenerStartsecs(process.env))}. "Served cold": ` +
        `visitor requests an instance answered before it was warm, counted by the instance. "Failed": no 2xx answer.`,
    ) +
    '\n' +
    table +
    extra +
    `goal (with the listener: 0 failed, 0 served cold): ${met ? 'met' : 'MISSED'}\n`
  );
}

export const chaos: Benchmark = {
  name: 'chaos',
  title: 'Chaos: restarts, kills, stops and haproxy reloads under load',
  run,
};
