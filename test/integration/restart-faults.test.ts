// `restart` that ends without restarting a process puts its servers back, with real haproxy and supervisord:
// Ctrl-C or SIGTERM while it waits for a session that never ends; a supervisord whose stopProcess fails
// (a proxy in front of the real one that drops that call).

import { spawn } from 'node:child_process';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { useStack } from '../support/hooks.js';
import { listenerCommand } from '../support/paths.js';
import { boundPort, freePort } from '../support/ports.js';
import { appProgram, appsListening, listenerProgram, writeListenerConfig } from '../support/programs.js';
import { startSupervisord, type SupervisordInstance } from '../support/supervisord.js';
import { makeTempDir, removeDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const APPS = ['web1', 'web2'] as const;
let dir: string;
let hap: HaproxyInstance;
let sup: SupervisordInstance;
let proxy: HttpServer | null = null;
let configPath: string;
let fePort: number;
const clients: Socket[] = [];

/**
 * supervisord's XML-RPC as seen through a proxy on 127.0.0.1 that forwards every call to the real one
 * but drops the connection on supervisor.stopProcess, as a supervisord going away mid-call would.
 */
async function startProxy(socketPath: string): Promise<number> {
  proxy = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.toString('utf8').includes('<methodName>supervisor.stopProcess</methodName>')) {
        req.socket.destroy();
        return;
      }
      const forward = request({ socketPath, path: '/RPC2', method: 'POST', headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => req.socket.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
  return boundPort(proxy);
}

async function start(): Promise<void> {
  dir = await makeTempDir('shr-');
  const ports = { web1: await freePort(), web2: await freePort() };
  fePort = await freePort();
  hap = await startHaproxy({
    dir: join(dir, 'hap'),
    // `balance first`: every request goes to web1, whose app never answers: a session that never ends.
    backends: [{ name: 'site', servers: APPS.map((name) => ({ name, port: ports[name] })), options: ['balance first'] }],
    frontends: [{ name: 'fe', port: fePort, backend: 'site' }],
    defaults: ['timeout server 5m', 'timeout client 5m'],
  });
  sup = await startSupervisord({
    dir: join(dir, 'sup'),
    programs: [
      appProgram(dir, 'web1', { PORT: ports.web1, HANG: 1 }),
      appProgram(dir, 'web2', { PORT: ports.web2 }),
      listenerProgram(dir, join(dir, 'listener.ini'), { extra: ['autostart = false'] }),
    ].join('\n'),
  });
  const proxyPort = await startProxy(sup.url.slice('unix://'.length));
  // No warm-up: ready on RUNNING. The commands and the listener reach supervisord through the proxy.
  configPath = await writeListenerConfig(
    dir,
    `[haproxy]\nsocket = ${hap.sockets[0]}\ntimeout = 1s\n\n[supervisor]\nurl = http://127.0.0.1:${proxyPort}\n\n` +
      APPS.map((a) => `[program:${a}]\nservers = site/${a}\n`).join('\n'),
  );
  await appsListening(dir, APPS);
  expect((await sup.ctl('start', 'listener')).code).toBe(0);
  for (const a of APPS) await hap.waitStatus('site', a, 'no check', 20_000);
}

async function teardown(): Promise<void> {
  for (const c of clients.splice(0)) c.destroy();
  await sup?.stop();
  await hap?.stop();
  if (proxy !== null) await new Promise((r) => proxy!.close(r));
  proxy = null;
  if (dir !== undefined) await removeDir(dir);
}

useStack(start, teardown, 120_000);

async function pidOf(name: string): Promise<number> {
  return Number((await sup.ctl('pid', name)).stdout.trim());
}

/** `supervisor-haproxy restart ARGS` as a child whose stdout the test watches and which it can signal. */
function runRestart(args: readonly string[]) {
  const [command, ...rest] = listenerCommand() as [string, ...string[]];
  const child = spawn(command, [...rest, 'restart', '--config', configPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

describe('restart ended by a signal while it waits for sessions to end', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: web1 put back in rotation, not restarted, exit %i', async (signal, code) => {
    const pid = await pidOf('web1');
    // A request web1 never answers: one session that keeps the drain waiting.
    const client = connect(fePort, '127.0.0.1');
    clients.push(client);
    client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(async () => (await hap.cmd('show stat')).split('\n').some((l) => /^site,web1,(?:[^,]*,){2}[1-9]/.test(l)) || undefined, {
      timeoutMs: 10_000,
      what: 'a session on site/web1',
    });
    const r = runRestart(['web1', '--drain-timeout', '5m']);
    await waitFor(() => r.output().includes('waiting for sessions to end') || undefined, {
      timeoutMs: 20_000,
      what: 'restart to wait for sessions to end',
    });
    expect(await hap.serverStatus('site', 'web1')).toMatch(/^DRAIN/);
    r.child.kill(signal);
    expect(await r.exited).toEqual({ code, signal: null });
    expect(r.output()).toContain(`restart stopped at web1:web1: interrupted by ${signal}`);
    expect(r.output()).toContain(`web1:web1: not restarted: site/web1 put back to ready on ${hap.sockets[0]}`);
    expect(await hap.serverStatus('site', 'web1')).toBe('no check');
    expect(await pidOf('web1')).toBe(pid);
    client.destroy();
  });
});

describe('restart whose stopProcess fails (the connection to supervisord drops)', () => {
  it('puts web2 back in rotation, since it still runs as before, and exits 1', async () => {
    const pid = await pidOf('web2');
    const r = runRestart(['web2', '--drain-timeout', '5s']);
    expect(await r.exited).toEqual({ code: 1, signal: null });
    expect(r.output()).toMatch(/restart stopped at web2:web2: stop failed: .*socket hang up/);
    expect(r.output()).toContain(`web2:web2: the stop did not take effect: site/web2 put back to ready on ${hap.sockets[0]}`);
    expect(await hap.serverStatus('site', 'web2')).toBe('no check');
    expect(await pidOf('web2')).toBe(pid);
  });
});
