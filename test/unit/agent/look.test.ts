// What `check` says of an agent address: answering, something else answering, or nothing there yet.

import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAgentAddress } from '../../../src/agent/address.js';
import { checkAgentAddress, isAgentAnswer } from '../../../src/agent/look.js';
import { AgentServer } from '../../../src/agent/server.js';
import { systemClock } from '../../../src/clock.js';
import { memoryLogger } from '../../support/log.js';

const servers: Server[] = [];
const sockets: import('node:net').Socket[] = [];
const agents: AgentServer[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

async function listen(onConnection: (s: import('node:net').Socket) => void): Promise<number> {
  const s = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const port = await listen(() => undefined);
  await new Promise((r) => servers.pop()?.close(r));
  return port;
}

describe('checkAgentAddress', () => {
  const ref = { backend: 'site', server: 'a' };

  it('ok when the agent answers, with its answer', async () => {
    const port = await freePort();
    const agent = new AgentServer({ addresses: [parseAgentAddress(`127.0.0.1:${port}`)], lookup: () => 'ready', clock: systemClock, log: memoryLogger() });
    agents.push(agent);
    await agent.start();
    expect(await checkAgentAddress(parseAgentAddress(`0.0.0.0:${port}`), ref)).toEqual({ verdict: 'ok', detail: 'answers site/a → ready' });
  });

  it('FAIL when something else answers there', async () => {
    const port = await listen((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    expect(await checkAgentAddress(parseAgentAddress(`127.0.0.1:${port}`), ref)).toEqual({
      verdict: 'FAIL',
      detail: 'something else answers there: "HTTP/1.1 400 Bad Request"',
    });
  });

  it('WARN when nothing listens yet but the address can be bound', async () => {
    const port = await freePort();
    expect(await checkAgentAddress(parseAgentAddress(`127.0.0.1:${port}`), null)).toEqual({
      verdict: 'WARN',
      detail: 'nothing answers yet; the address can be bound (is the listener running?)',
    });
  });

  it('knows its own answers', () => {
    for (const a of ['ready', 'drain', 'maint', '#no decision']) expect(isAgentAnswer(a)).toBe(true);
    for (const a of ['', 'up', 'HTTP/1.1 400', '50%']) expect(isAgentAnswer(a)).toBe(false);
  });
});
