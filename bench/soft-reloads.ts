// Benchmark: failed requests during HAProxy soft reloads under keep-alive load, for candidate HAProxy settings.

import { get } from 'node:http';
import { join } from 'node:path';
import { countingAppPath } from '../test/support/counting.js';
import { startHaproxy, statsCommand, type HaproxyInstance } from '../test/support/haproxy.js';
import { freePort } from '../test/support/ports.js';
import { spawnLogged, terminate } from '../test/support/process.js';
import { startVisitors } from '../test/support/visitors.js';
import { waitFor } from '../test/support/wait.js';
import { renderRows } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { count } from './format.js';
import { formatFailures, paragraphs } from '../test/support/figures.js';

interface Variant {
  readonly name: string;
  readonly global?: readonly string[];
  readonly defaults?: readonly string[];
  readonly masterWorker?: boolean;
  /** `expose-fd listeners` on the stats socket and `-x` on reload: the new process takes over the listening sockets. */
  readonly exposeListeners?: boolean;
  /** The clients send a request again once when it failed unanswered on a reused connection (browsers do). */
  readonly clientRetries?: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'defaults (-sf)' },
  { name: 'defaults (-W, SIGUSR2)', masterWorker: true },
  { name: 'option idle-close-on-response (-sf)', defaults: ['option idle-close-on-response'] },
  { name: 'option idle-close-on-response (-W, SIGUSR2)', defaults: ['option idle-close-on-response'], masterWorker: true },
  { name: 'defaults (-sf -x, expose-fd listeners)', exposeListeners: true },
  { name: 'option idle-close-on-response (-sf -x, expose-fd listeners)', defaults: ['option idle-close-on-response'], exposeListeners: true },
  { name: 'defaults, clients retry on a reused connection (-sf)', clientRetries: true },
  { name: 'hard-stop-after 10s (-sf)', global: ['hard-stop-after 10s'] },
  { name: 'option http-server-close (-sf)', defaults: ['option http-server-close'] },
  { name: 'option httpclose (-sf)', defaults: ['option httpclose'] },
  { name: 'option httpclose (-sf -x, expose-fd listeners)', defaults: ['option httpclose'], exposeListeners: true },
];

const APPS = 3;
const CLIENTS = 8;
/** Requests the new process must have answered before the next reload: each reload lands under load. */
const BETWEEN = 200;

/** HTTP GET / on 127.0.0.1:port answers 200 (no X-Forwarded-For: not counted as a visitor). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

async function cumReq(hap: HaproxyInstance): Promise<number> {
  const m = /^CumReq: (\d+)$/m.exec(await statsCommand(hap.sockets[0] as string, 'show info', 2000));
  return m === null ? 0 : Number(m[1]);
}

async function run(ctx: BenchContext): Promise<string> {
  const reloads = ctx.quick ? 5 : 20;
  const ports: number[] = [];
  for (let i = 1; i <= APPS; i++) {
    const port = await freePort();
    ports.push(port);
    const env = { PORT: String(port), NAME: `app${i}`, STATE_DIR: ctx.dir };
    await ctx.teardown.own(`app${i}`, spawnLogged(process.execPath, [countingAppPath()], { logPath: join(ctx.dir, `app${i}.log`), env }), (p) =>
      terminate(p, 3000).then(() => undefined),
    );
    await waitFor(() => answers(port), { timeoutMs: 10_000, what: `app${i} on port ${port}` });
  }

  const rows: string[][] = [];
  for (const [i, v] of VARIANTS.entries()) {
    const frontendPort = await freePort();
    const hap = await ctx.teardown.own(
      `haproxy ${v.name}`,
      startHaproxy({
        dir: join(ctx.dir, `hap${i}`),
        frontends: [{ name: 'www', port: frontendPort, backend: 'site' }],
        backends: [{ name: 'site', servers: ports.map((port, j) => ({ name: `app${j + 1}`, port })) }],
        global: v.global ?? [],
        defaults: v.defaults ?? [],
        ...(v.masterWorker === true ? { masterWorker: true } : {}),
        ...(v.exposeListeners === true ? { exposeListeners: true } : {}),
      }),
      (h) => h.stop(),
    );
    const load = startVisitors(`http://127.0.0.1:${frontendPort}/site`, { clients: CLIENTS, timeoutMs: 5000, retryReused: v.clientRetries === true });
    ctx.teardown.add(`load ${v.name}`, () => load.stop().then(() => undefined));
    await waitFor(async () => (await cumReq(hap)) >= BETWEEN, { timeoutMs: 30_000, what: 'load through haproxy' });
    for (let r = 0; r < reloads; r++) {
      await hap.reload();
      await waitFor(async () => (await cumReq(hap)) >= BETWEEN, { timeoutMs: 30_000, what: `load through haproxy after reload ${r + 1}` });
    }
    const result = await load.stop();
    await hap.stop();
    ctx.progress(`${v.name}: ${result.requests} requests, ${result.failed} failed`);
    rows.push([v.name, count(reloads), count(result.requests), count(result.failed), formatFailures(result.failures) || '-']);
  }
  return (
    paragraphs(
      `${CLIENTS} keep-alive clients request /site through HAProxy back to back (${APPS} app instances, always ` +
        `warm). HAProxy is soft-reloaded ${reloads} times per row: a new \`haproxy -db -f cfg -sf OLDPID\` (-sf; -sf -x: with \`-x STATS_SOCKET\` too), or ` +
        `SIGUSR2 to a master started with \`-W\`; each reload waits until the new process answers the stats socket ` +
        `and has served ${BETWEEN} requests. A failed request is any without a 2xx answer; the clients (Node's http.Agent) do not retry unless the row says so.`,
    ) +
    '\n' +
    renderRows(['haproxy setting', 'reloads', 'requests', 'failed', 'failures'], rows)
  );
}

export const softReloads: Benchmark = {
  name: 'reloads',
  title: 'Failed requests during HAProxy soft reloads',
  run,
};
