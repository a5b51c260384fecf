// The responder's shell: framing in every chunking, one answer per connection, and its limits on bad peers.

import { connect, createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAgentAddress } from '../../../src/agent/address.js';
import { NO_CHANGE } from '../../../src/agent/answers.js';
import { AgentServer, type AgentLimits } from '../../../src/agent/server.js';
import type { Clock } from '../../../src/clock.js';
import type { AdminState, ServerRef } from '../../../src/haproxy/types.js';
import { memoryLogger } from '../../support/log.js';
import { chunkings } from '../../support/frames.js';

/** Time that moves only when a test says so. */
function manualClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    sleep: () => Promise.reject(new Error('not used')),
    timer(ms, fn) {
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => {
        timers = timers.filter((x) => x !== t);
      };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
    pending: () => timers.length,
  };
}

const STATES: Record<string, AdminState> = { 'plone/a': 'ready', 'plone/b': 'maint', 'plone/c': 'drain' };
const lookup = (ref: ServerRef): AdminState | null => STATES[`${ref.backend}/${ref.server}`] ?? null;

function agent(limits: Partial<AgentLimits> = {}, addresses = ['127.0.0.1:1']) {
  const clock = manualClock();
  const log = memoryLogger();
  const server = new AgentServer({ addresses: addresses.map(parseAgentAddress), lookup, clock, log, limits });
  return { server, clock, log };
}

/** A connection as the responder sees it: chunks pushed in, what it writes collected, end and close observed. */
function fakeConnection() {
  let out = '';
  let ended = false;
  const d = new Duplex({
    allowHalfOpen: true,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  return {
    d,
    get out() {
      return out;
    },
    get ended() {
      return ended;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

async function converse(chunks: readonly Buffer[], end = false, limits: Partial<AgentLimits> = {}) {
  const a = agent(limits);
  const c = fakeConnection();
  a.server.handle(c.d, 'peer');
  for (const chunk of chunks) {
    c.d.push(chunk);
    await tick();
  }
  if (end) c.d.push(null);
  await tick();
  await tick();
  return { ...a, c };
}

describe('AgentServer.handle', () => {
  const cases: [string, string][] = [
    ['plone/a\n', 'ready\n'],
    ['plone/b\n', 'maint\n'],
    ['plone/c\r\n', 'drain\n'],
    ['plone/zz\n', NO_CHANGE],
    ['\n', NO_CHANGE],
    ['\u00ff\u0000\u0001garbage/\u0007\n', NO_CHANGE],
  ];
  for (const [request, answer] of cases) {
    it(`answers ${JSON.stringify(request)} with ${JSON.stringify(answer)} in every chunking`, async () => {
      for (const way of chunkings(Buffer.from(request, 'latin1'))) {
        for (const cut of way.cuts) {
          const { c } = await converse(cut.chunks);
          expect(c.out, cut.label).toBe(answer);
          expect(c.ended, cut.label).toBe(true);
        }
      }
    });
  }

  it('answers the first line only; what follows is not read', async () => {
    const { c, server } = await converse([Buffer.from('plone/a\nplone/b\nplone/c\n')]);
    expect(c.out).toBe('ready\n');
    expect(server.counts).toEqual({ answered: 1, refused: 0 });
  });

  it('answers a line the peer ended without a newline, and a peer that sent nothing with the no-change line', async () => {
    expect((await converse([Buffer.from('plone/a')], true)).c.out).toBe('ready\n');
    const silent = await converse([], true);
    expect(silent.c.out).toBe(NO_CHANGE);
    expect(silent.log.lines.join('')).toContain('why=empty');
  });

  it('closes a line longer than maxLine unanswered, having buffered no more than that', async () => {
    const { c, log, server } = await converse([Buffer.alloc(600, 0x61)], false, { maxLine: 512 });
    expect(c.out).toBe('');
    expect(c.d.destroyed).toBe(true);
    expect(log.lines.join('')).toContain('why=too-long');
    expect(server.counts.refused).toBe(1);
    // A long line in small pieces is cut as soon as it passes the limit, not when it ends.
    const pieces = Array.from({ length: 100 }, () => Buffer.alloc(64, 0x62));
    const slow = await converse(pieces.slice(0, 9), false, { maxLine: 512 });
    expect(slow.c.d.destroyed).toBe(true);
  });

  it('cuts a peer that sends nothing after connectionMs, and one that never reads its answer', async () => {
    const { c, clock, log } = await converse([Buffer.from('plone/')], false, { connectionMs: 2000 });
    clock.advance(1999);
    expect(c.d.destroyed).toBe(false);
    clock.advance(1);
    expect(c.d.destroyed).toBe(true);
    expect(c.out).toBe('');
    expect(log.lines.join('')).toContain('why=timeout');

    const answered = await converse([Buffer.from('plone/a\n')], false, { connectionMs: 2000 });
    expect(answered.c.out).toBe('ready\n');
    expect(answered.c.d.destroyed).toBe(false);
    answered.clock.advance(2000);
    expect(answered.c.d.destroyed).toBe(true);
    // Answered: cutting it is no refusal.
    expect(answered.log.lines.join('')).not.toContain('why=timeout');
    expect(answered.clock.pending()).toBe(0);
  });

  it('logs unknown names with the name, at most logPerMinute lines, then says how many it dropped', async () => {
    const a = agent({ logPerMinute: 2 });
    for (let i = 0; i < 5; i++) {
      const c = fakeConnection();
      a.server.handle(c.d, '192.0.2.1');
      c.d.push(Buffer.from(`plone/x${i}\n`));
      await tick();
    }
    expect(a.log.lines).toHaveLength(2);
    expect(a.log.lines[0]).toContain('why=unknown request=plone/x0 peer=192.0.2.1');
    a.clock.advance(60_000);
    const c = fakeConnection();
    a.server.handle(c.d, '192.0.2.1');
    c.d.push(Buffer.from('plone/x9\n'));
    await tick();
    expect(a.log.lines[2]).toContain('suppressed=3');
  });
});

describe('AgentServer on real loopback sockets', () => {
  const started: AgentServer[] = [];
  const clients: Socket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  async function freePort(host: string): Promise<number> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, host, r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    return port;
  }

  /** The answer, or '' when the server closed or reset the connection without one. */
  function ask(host: string, port: number, line: string): Promise<string> {
    return new Promise((resolve) => {
      const c = connect({ host, port });
      clients.push(c);
      let text = '';
      c.on('data', (d) => (text += d.toString()));
      c.on('end', () => resolve(text));
      c.on('close', () => resolve(text));
      c.on('error', () => resolve(text));
      c.write(line);
    });
  }

  it('answers on IPv4 and IPv6 addresses of the same port', async () => {
    const port = await freePort('127.0.0.1');
    const a = agent({}, [`127.0.0.1:${port}`, `[::1]:${port}`]);
    started.push(a.server);
    await a.server.start();
    expect(await ask('127.0.0.1', port, 'plone/a\n')).toBe('ready\n');
    expect(await ask('::1', port, 'plone/b\n')).toBe('maint\n');
    expect(a.log.lines.join('')).toContain(`msg="agent listening" listen="127.0.0.1:${port},[::1]:${port}"`);
  });

  it('refuses to start on a taken port, naming the address, and leaves nothing bound', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const free = await freePort('::1');
    const a = agent({}, [`[::1]:${free}`, `127.0.0.1:${port}`]);
    await expect(a.server.start()).rejects.toThrow(`agent: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`);
    await new Promise((r) => taken.close(r));
    // The first address was released again.
    const again = agent({}, [`[::1]:${free}`]);
    started.push(again.server);
    await again.server.start();
  });

  it('closes connections beyond maxConnections at once, and answers again once one is freed', async () => {
    const port = await freePort('127.0.0.1');
    const a = agent({ maxConnections: 3 }, [`127.0.0.1:${port}`]);
    started.push(a.server);
    await a.server.start();
    const idle = await Promise.all(
      Array.from({ length: 3 }, () => new Promise<Socket>((resolve) => {
        const c = connect({ host: '127.0.0.1', port }, () => resolve(c));
        clients.push(c);
      })),
    );
    // The fourth is accepted by the kernel and closed by the server: no answer.
    expect(await ask('127.0.0.1', port, 'plone/a\n')).toBe('');
    expect(a.server.counts.refused).toBeGreaterThanOrEqual(1);
    expect(a.log.lines.join('')).toContain('why=too-many-connections');
    const closed = new Promise((r) => idle[0]?.once('close', r));
    idle[0]?.destroy();
    await closed;
    // The server learns of the close asynchronously: ask until it answers.
    let answer = '';
    for (let i = 0; i < 100 && answer === ''; i++) answer = await ask('127.0.0.1', port, 'plone/a\n');
    expect(answer).toBe('ready\n');
  });
});
