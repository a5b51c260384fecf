// Benchmark: push (admin socket) against pull (agent-check) — decision → HAProxy latency, answers per second,
// and what a reload of an agent-only HAProxy exposes with and without its server state file.

import { spawn } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readVisits, setColdNext } from '../test/support/counting.js';
import { paragraphs } from '../test/support/figures.js';
import { startHaproxy, statusFromShowStat, statsCommand, type HaproxyInstance } from '../test/support/haproxy.js';
import { freePort } from '../test/support/ports.js';
import { waitForLog } from '../test/support/programs.js';
import { startStack, supervisorRpc, type Stack } from '../test/support/stack.js';
import { startVisitors } from '../test/support/visitors.js';
import { renderRows } from './compare.js';
import type { Benchmark, BenchContext } from './context.js';
import { count, duration, megabytes } from './format.js';
import { readRss, steadyRss } from './rss.js';
import { summarize } from './stats.js';

const BACKEND = 'site'; // the stack's backend
const POLL_MS = 2;
const PULL_INTERS = [100, 500, 1000] as const;

const status = async (hap: HaproxyInstance, server: string): Promise<string> =>
  statusFromShowStat(await statsCommand(hap.sockets[0] as string, `show stat ${BACKEND} 4 -1`), server) ?? '?';

/** Polls every HAProxy until each shows `done`; per HAProxy, ms from `t0` to the first poll that did. */
async function untilAll(haps: readonly HaproxyInstance[], server: string, done: (s: string) => boolean, t0: number): Promise<number[]> {
  return Promise.all(
    haps.map(async (hap) => {
      const deadline = performance.now() + 20_000;
      for (;;) {
        const s = await status(hap, server);
        const at = performance.now();
        if (done(s)) return at - t0;
        if (at > deadline) throw new Error(`${server}: still '${s}' after 20 s on ${hap.dir}`);
        await sleep(POLL_MS);
      }
    }),
  );
}

/** One agent question on a fresh connection, as HAProxy asks it. */
function askOnce(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port });
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (text += d));
    c.on('end', () => {
      c.destroy();
      resolve(text);
    });
    c.on('error', reject);
    c.write(line);
  });
}

/** A connection that sends nothing and never closes: it holds one of the agent's slots until the agent cuts it. */
function openIdle(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port }, () => resolve(c));
    c.on('error', () => resolve(c));
    c.resume();
  });
}

const JUNK = Buffer.alloc(64 * 1024, 0x41);

/** 64 KiB without a newline, then wait until the agent cuts the connection. */
function sendJunk(port: number): Promise<void> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port }, () => c.write(JUNK));
    c.on('error', () => undefined);
    c.on('close', () => resolve());
    c.resume();
  });
}

/** `clients` loops of connect, ask, read, close for `ms`: answers per second. */
async function flood(port: number, line: string, clients: number, ms: number): Promise<{ perSecond: number; errors: number }> {
  const until = performance.now() + ms;
  let answers = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        try {
          if ((await askOnce(port, line)).endsWith('\n')) answers++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { perSecond: (answers * 1000) / ms, errors };
}

/** The floor: a bare Node TCP server, in its own process, answering `ready\n` to every connection's first line. */
async function startBareResponder(port: number): Promise<() => void> {
  const code = `require('node:net').createServer((s)=>{s.once('data',()=>s.end('ready\\n'));s.on('error',()=>{})}).listen(${port},'127.0.0.1',()=>process.stderr.write('up\\n'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`bare responder exited with ${c}`)));
  });
  return () => child.kill('SIGTERM');
}

interface AgentStack {
  readonly stack: Stack;
  /** The stack's own HAProxy, to which the listener pushes when asked to (its [haproxy] socket). */
  readonly push: HaproxyInstance;
  readonly pulls: readonly HaproxyInstance[];
  readonly agentPort: number;
  readonly names: readonly string[];
  readonly frontend: number;
}

function serverOptions(agentPort: number | null, name: string, inter: number): string {
  const agent = agentPort === null ? '' : ` agent-check agent-addr 127.0.0.1 agent-port ${agentPort} agent-send "${BACKEND}/${name}\\n" agent-inter ${inter}ms`;
  return `inter 2s rise 1 fall 1${agent}`;
}

/** The stack: counting apps, the listener (socket to its haproxy, `push`, when asked; agent for the `pulls`), and the pulls. */
async function startAgentStack(
  ctx: BenchContext,
  opts: { programs: number; inters: readonly number[]; push: boolean; extraGlobal?: readonly string[] },
): Promise<AgentStack> {
  const names = Array.from({ length: opts.programs }, (_, i) => `svc${i + 1}`);
  const agentPort = await freePort();
  const frontend = await freePort();
  const stack = await startStack(
    {
      dir: ctx.dir,
      apps: names.map((name) => ({ name, kind: 'counting' as const, env: {} })),
      check: serverOptions(null, '', 0), // health checks only: the stack's haproxy is the push side
      healthPath: '/',
      listeners: [
        {
          haproxy: opts.push ? ['timeout = 2s'] : null,
          sections: ['[agent]', `listen = 127.0.0.1:${agentPort}`, ''],
          warmup: ['interval = 20ms', 'timeout = 1s', 'deadline = 60s'],
          mapping: (_name, port) => ['warmup = /site', `address = 127.0.0.1:${port}`],
        },
      ],
    },
    ctx.teardown,
  );
  const pulls: HaproxyInstance[] = [];
  for (const inter of opts.inters) {
    pulls.push(
      await ctx.teardown.own(
        `haproxy pull ${inter}ms`,
        startHaproxy({
          dir: join(ctx.dir, `pull-${inter}`),
          backends: [
            {
              name: BACKEND,
              options: ['option httpchk GET /'],
              servers: names.map((n) => ({ name: n, port: stack.ports[n] as number, check: true, options: serverOptions(agentPort, n, inter) })),
            },
          ],
          frontends: [{ name: 'www', port: frontend, backend: BACKEND }],
          defaults: ['option forwardfor', ...(opts.extraGlobal === undefined ? [] : ['load-server-state-from-file global'])],
          global: opts.extraGlobal ?? [],
        }),
        (h) => h.stop(),
      ),
    );
  }
  await waitForLog(stack.listenerDir(), /msg="agent listening"/, 'the agent to listen', 0, 30_000);
  for (const hap of [...(opts.push ? [stack.hap] : []), ...pulls]) {
    for (const n of names) await hap.waitStatus(BACKEND, n, 'UP', 30_000);
  }
  return { stack, push: stack.hap, pulls, agentPort, names, frontend };
}

async function latency(ctx: BenchContext): Promise<string> {
  const cycles = ctx.quick ? 6 : 30;
  const stack = await startAgentStack(ctx, { programs: 3, inters: PULL_INTERS, push: true });
  const rpc = await supervisorRpc(stack.stack.sup.url);
  const haps = [stack.push, ...stack.pulls];
  const out: number[][] = haps.map(() => []);
  const back: number[][] = haps.map(() => []);
  ctx.progress(`latency: ${cycles} stop/start cycles; push and pull (agent-inter ${PULL_INTERS.join(', ')} ms) watched at once`);
  for (let i = 0; i < cycles; i++) {
    const name = stack.names[i % stack.names.length] as string;
    // Stops land at any point of an agent-inter, as real ones do.
    await sleep(Math.random() * Math.max(...PULL_INTERS));
    const t0 = performance.now();
    const stopped = rpc.stopProcess(name);
    const maint = untilAll(haps, name, (s) => s.startsWith('MAINT'), t0);
    await stopped;
    (await maint).forEach((ms, j) => out[j]?.push(ms));
    await sleep(Math.random() * Math.max(...PULL_INTERS));
    await rpc.startProcess(name);
    const t1 = performance.now();
    (await untilAll(haps, name, (s) => s === 'UP', t1)).forEach((ms, j) => back[j]?.push(ms));
  }

  ctx.progress('answers per second: 8 clients, a fresh connection per answer; a bare Node responder as the floor');
  const floodMs = ctx.quick ? 2000 : 5000;
  const barePort = await freePort();
  const stopBare = await startBareResponder(barePort);
  ctx.teardown.add('bare responder', async () => stopBare());
  const bare = await flood(barePort, `${BACKEND}/svc1\n`, 8, floodMs);
  stopBare();
  const agent = await flood(stack.agentPort, `${BACKEND}/svc1\n`, 8, floodMs);

  ctx.progress('push latency while the agent is flooded');
  const underFlood: number[] = [];
  const floodCycles = ctx.quick ? 4 : 15;
  let stopFlood = false;
  const floodLoops = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!stopFlood) await askOnce(stack.agentPort, `${BACKEND}/svc1\n`).catch(() => '');
    }),
  );
  for (let i = 0; i < floodCycles; i++) {
    const name = stack.names[(i % 2) + 1] as string;
    const t0 = performance.now();
    const stopped = rpc.stopProcess(name);
    const [ms] = await untilAll([stack.push], name, (s) => s.startsWith('MAINT'), t0);
    await stopped;
    underFlood.push(ms as number);
    await rpc.startProcess(name);
    await untilAll([stack.push], name, (s) => s === 'UP', performance.now());
  }
  stopFlood = true;
  await floodLoops;

  ctx.progress('hostile clients: 300 idle connections held, 8 clients sending 64 KiB without a newline');
  const listenerPid = await stack.stack.pid('listener');
  const before = await steadyRss(listenerPid);
  const idle = await Promise.all(Array.from({ length: 300 }, () => openIdle(stack.agentPort)));
  let stopJunk = false;
  let junkSent = 0;
  const junk = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!stopJunk) {
        await sendJunk(stack.agentPort);
        junkSent++;
      }
    }),
  );
  await sleep(floodMs);
  stopJunk = true;
  await junk;
  const cutIdle = idle.filter((c) => c.destroyed || c.readableEnded).length;
  for (const c of idle) c.destroy();
  const peak = await readRss(listenerPid);
  await sleep(3000);
  const after = await steadyRss(listenerPid);
  await stack.stack.stop();
  for (const h of stack.pulls) await h.stop();

  const hostile = renderRows(
    ['listener under hostile clients', 'value'],
    [
      ['RSS before', megabytes(before.rss)],
      ['peak RSS (VmHWM) before / after', `${megabytes(before.hwm)} / ${megabytes(peak.hwm)}`],
      ['RSS 3 s after', megabytes(after.rss)],
      ['64 KiB junk connections cut', count(junkSent)],
      [`idle connections cut within ${floodMs / 1000} s`, `${count(cutIdle)} of 300`],
    ],
  );
  const labels = ['push (admin socket)', ...PULL_INTERS.map((i) => `pull, agent-inter ${i} ms`)];
  const rows = labels.map((label, j) => {
    const o = summarize(out[j] ?? []);
    const b = summarize(back[j] ?? []);
    return [label, duration(o.p50), duration(o.p99), duration(o.max), duration(b.p50), duration(b.max)];
  });
  const pushAlone = summarize(out[0] ?? []);
  const flooded = summarize(underFlood);
  return (
    paragraphs(
      `3 counting apps under real supervisord; one listener with [haproxy] (socket to the push HAProxy) and ` +
        `[agent]; three more HAProxys pull through agent-check at agent-inter ${PULL_INTERS.join(' / ')} ms ` +
        `(health checks \`inter 2s\` everywhere). ${cycles} cycles: XML-RPC stopProcess, \`show stat\` of all four ` +
        `polled every ${POLL_MS} ms until MAINT; then startProcess and poll until UP (after the listener's warm-up). ` +
        `Each stop and start waits a random part of the longest agent-inter first. Times from stopProcess sent, ` +
        `and from startProcess returned.`,
    ) +
    '\n' +
    renderRows(['', 'stop → MAINT p50', 'p99', 'max', 'start → UP p50', 'max'], rows) +
    '\n' +
    renderRows(
      ['8 clients, connection per answer', 'answers/s', 'errors'],
      [
        ['bare Node responder (floor)', count(bare.perSecond), count(bare.errors)],
        ['the listener\'s agent', count(agent.perSecond), count(agent.errors)],
      ],
    ) +
    '\n' +
    renderRows(
      ['push stop → MAINT', 'cycles', 'p50', 'max'],
      [
        ['agent idle', count(pushAlone.n), duration(pushAlone.p50), duration(pushAlone.max)],
        ['agent flooded (8 clients)', count(flooded.n), duration(flooded.p50), duration(flooded.max)],
      ],
    ) +
    '\n' +
    hostile
  );
}

/**
 * An agent-only HAProxy (agent-inter 1 s) with svc2 running but cold (the agent answers maint), under load;
 * soft reloads (-sf) without and then with a `show servers state` dump to its state file just before.
 */
async function reloads(ctx: BenchContext): Promise<string> {
  const rounds = ctx.quick ? 2 : 5;
  const stateFile = join(ctx.dir, 'server-state');
  await mkdir(ctx.dir, { recursive: true });
  await writeFile(stateFile, '');
  const stack = await startAgentStack(ctx, { programs: 3, inters: [1000], push: false, extraGlobal: [`server-state-file ${stateFile}`] });
  const appDir = stack.stack.appDir;
  const hap = stack.pulls[0] as HaproxyInstance;
  await setColdNext(appDir, 'svc2', true);
  await stack.stack.sup.ctl('restart', 'svc2');
  await hap.waitStatus(BACKEND, 'svc2', 'MAINT', 30_000);
  const load = startVisitors(`http://127.0.0.1:${stack.frontend}/site`, { clients: 4, timeoutMs: 10_000 });
  const results: { withFile: boolean; cold: number; exposedMs: number }[] = [];
  for (const withFile of [false, true]) {
    for (let i = 0; i < rounds; i++) {
      await sleep(Math.random() * 1000);
      const coldBefore = (await readVisits(appDir, 'svc2')).filter((v) => v.cold).length;
      if (withFile) await writeFile(stateFile, await hap.cmd('show servers state'));
      else await writeFile(stateFile, '');
      const t0 = performance.now();
      await hap.reload();
      // How long the new process had svc2 in service before the agent's answer reached it.
      let firstSeen: string | null = null;
      const [ms] = await untilAll([hap], 'svc2', (s) => {
        firstSeen ??= s;
        return s.startsWith('MAINT');
      }, t0);
      await sleep(200);
      const cold = (await readVisits(appDir, 'svc2')).filter((v) => v.cold).length - coldBefore;
      results.push({ withFile, cold, exposedMs: firstSeen !== null && (firstSeen as string).startsWith('MAINT') ? 0 : (ms as number) });
    }
  }
  const done = await load.stop();
  await stack.stack.stop();
  await hap.stop();
  const row = (withFile: boolean, label: string) => {
    const rs = results.filter((r) => r.withFile === withFile);
    const exposed = summarize(rs.map((r) => r.exposedMs));
    return [label, count(rs.length), count(rs.reduce((a, r) => a + r.cold, 0)), duration(exposed.p50), duration(exposed.max)];
  };
  return (
    paragraphs(
      `An agent-only HAProxy (agent-inter 1 s, \`server-state-file\` + \`load-server-state-from-file global\`), ` +
        `3 counting apps, svc2 running and cold (health check passes, the agent answers maint); 4 keep-alive ` +
        `clients on /site (${count(done.requests)} requests, ${count(done.failed)} failed: ` +
        `${Object.entries(done.failures).map(([why, n]) => `${why} ×${n}`).join(', ') || 'none'}; a cold instance answers 503). Soft reloads (-sf): ` +
        `first with an empty state file, then with \`show servers state\` dumped to it just before each reload. ` +
        `"In service" is from the reload returning until the new process shows svc2 in MAINT (0 when it starts there).`,
    ) +
    '\n' +
    renderRows(['reload', 'reloads', 'cold requests served', 'in service p50', 'max'], [
      row(false, 'no state file'),
      row(true, 'show servers state dumped first'),
    ])
  );
}

async function run(ctx: BenchContext): Promise<string> {
  const first = await latency({ ...ctx, dir: join(ctx.dir, 'latency') });
  const second = await reloads({ ...ctx, dir: join(ctx.dir, 'reloads') });
  return `${first}\n${second}`;
}

export const agentPull: Benchmark = {
  name: 'agent',
  title: 'Push (admin socket) against pull (agent-check)',
  run,
};
