// HaproxyClient against a fake stats socket (node:net on a unix socket in a temp dir), replaying captured replies.

import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyCommandError, HaproxyConnectError, HaproxyReplyError } from '../../../src/errors.js';
import { parseSocketAddress } from '../../../src/haproxy/address.js';
import { HaproxyClient } from '../../../src/haproxy/client.js';
import { parseServersState, parseShowStat } from '../../../src/haproxy/replies.js';
import { boundPort, freePort } from '../../support/ports.js';
import { makeTempDir, removeDir } from '../../support/tmp.js';
import { reply } from './fixtures.js';

/** How the fake answers one command line; it may also do nothing (a hung CLI slot). */
type Responder = (line: string, socket: Socket) => void;

interface FakeSocket {
  readonly server: Server;
  readonly lines: string[];
  connections: number;
  /** Server-side sockets still open. */
  readonly open: Set<Socket>;
}

let dir: string;
const fakes: FakeSocket[] = [];

beforeAll(async () => {
  dir = await makeTempDir('hapcl-');
});

afterEach(async () => {
  for (const fake of fakes.splice(0)) {
    for (const s of fake.open) s.destroy();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  }
});

afterAll(async () => {
  await removeDir(dir);
});

let sockCount = 0;

/** A stats socket that reads one line per connection, like HAProxy in non-interactive mode. */
async function fakeStatsSocket(
  respond: Responder,
  where: 'unix' | 'tcp' = 'unix',
): Promise<FakeSocket & { address: string }> {
  // allowHalfOpen: like HAProxy, keep answering after the client's half-close (it sends `cmd\n` and FIN).
  const server = createServer({ allowHalfOpen: true });
  const fake: FakeSocket = { server, lines: [], connections: 0, open: new Set() };
  fake.server.on('connection', (socket) => {
    fake.connections += 1;
    fake.open.add(socket);
    socket.on('close', () => fake.open.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let answered = false;
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl < 0 || answered) return;
      answered = true;
      const line = buffered.slice(0, nl);
      fake.lines.push(line);
      respond(line, socket);
    });
  });
  let address: string;
  if (where === 'unix') {
    sockCount += 1;
    address = join(dir, `s${sockCount}.sock`);
    await new Promise<void>((resolve) => fake.server.listen(address, resolve));
  } else {
    // Port 0: the kernel picks a free one as it binds.
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    address = `tcp://127.0.0.1:${boundPort(fake.server)}`;
  }
  fakes.push(fake);
  return Object.assign(fake, { address });
}

/** Answers with `text` and closes, as HAProxy does. */
const answer =
  (text: string): Responder =>
  (_line, socket) => {
    socket.end(text);
  };

const client = (address: string, timeoutMs = 1000, maxConnections?: number) =>
  new HaproxyClient(parseSocketAddress(address), {
    timeoutMs,
    ...(maxConnections === undefined ? {} : { maxConnections }),
  });

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('HaproxyClient: commands and replies', () => {
  it('sends set server with a newline and takes the bare "\\n" as success', async () => {
    const fake = await fakeStatsSocket(answer(reply('set-server-ok.txt')));
    const c = client(fake.address);
    expect(c.label).toBe(fake.address);
    await expect(c.setServerState({ backend: 'be', server: 's2' }, 'maint')).resolves.toBeUndefined();
    expect(fake.lines).toEqual(['set server be/s2 state maint']);
  });

  it('uses one connection per command', async () => {
    const fake = await fakeStatsSocket(answer('\n'));
    const c = client(fake.address);
    await c.setServerState({ backend: 'be', server: 's2' }, 'drain');
    await c.setServerState({ backend: 'be', server: 's2' }, 'ready');
    expect(fake.connections).toBe(2);
    expect(fake.lines).toEqual(['set server be/s2 state drain', 'set server be/s2 state ready']);
  });

  it('turns error text into a HaproxyCommandError naming the socket and the command', async () => {
    const fake = await fakeStatsSocket(answer(reply('no-such-backend.txt')));
    const err = await caught(client(fake.address).setServerState({ backend: 'nope', server: 's2' }, 'maint'));
    expect(err).toBeInstanceOf(HaproxyCommandError);
    const e = err as HaproxyCommandError;
    expect(e.code).toBe('HAPROXY_COMMAND');
    expect(e.socket).toBe(fake.address);
    expect(e.command).toBe('set server nope/s2 state maint');
    expect(e.reply).toBe('No such backend.\n\n');
    expect(e.message).toBe(`haproxy ${fake.address}: 'set server nope/s2 state maint' failed: No such backend.`);
  });

  it.each(['no-such-server.txt', 'permission-denied.txt', 'state-keyword.txt'])(
    'refuses the set server reply %s',
    async (file) => {
      const fake = await fakeStatsSocket(answer(reply(file)));
      const err = await caught(client(fake.address).setServerState({ backend: 'be', server: 's2' }, 'ready'));
      expect(err).toBeInstanceOf(HaproxyCommandError);
      expect((err as Error).message).toContain(reply(file).trim());
    },
  );

  it('parses show servers state, and asks for one backend', async () => {
    const fake = await fakeStatsSocket(answer(reply('show-servers-state-be.txt')));
    const rows = await client(fake.address).showServersState('be');
    expect(rows).toEqual(parseServersState(reply('show-servers-state-be.txt')));
    expect(fake.lines).toEqual(['show servers state be']);
  });

  it("turns show servers state's Can't find backend. into a HaproxyCommandError", async () => {
    const fake = await fakeStatsSocket(answer(reply('cant-find-backend.txt')));
    const err = await caught(client(fake.address).showServersState('nope'));
    expect(err).toBeInstanceOf(HaproxyCommandError);
    expect((err as Error).message).toBe(
      `haproxy ${fake.address}: 'show servers state nope' failed: Can't find backend.`,
    );
  });

  it('parses show info', async () => {
    const fake = await fakeStatsSocket(answer(reply('show-info.txt')));
    const info = await client(fake.address).showInfo();
    expect(info['Name']).toBe('HAProxy');
    expect(fake.lines).toEqual(['show info']);
  });

  it('parses show stat', async () => {
    const fake = await fakeStatsSocket((_line, socket) => socket.end(reply('show-stat.csv')));
    expect(await client(fake.address).showStat()).toEqual(parseShowStat(reply('show-stat.csv')));
    expect(fake.lines).toEqual(['show stat']);
  });

  it('reassembles a reply that arrives byte by byte', async () => {
    const text = reply('show-stat-be.csv');
    const fake = await fakeStatsSocket((_line, socket) => {
      let i = 0;
      const next = () => {
        if (i >= text.length) {
          socket.end();
          return;
        }
        socket.write(text.slice(i, i + 1), () => setImmediate(next));
        i += 1;
      };
      next();
    });
    expect(await client(fake.address).showStat()).toEqual(parseShowStat(text));
  });

  it('reports a reply it cannot read as a HaproxyReplyError naming socket and command', async () => {
    const fake = await fakeStatsSocket(answer('1\nnot a header\n\n'));
    const err = await caught(client(fake.address).showServersState());
    expect(err).toBeInstanceOf(HaproxyReplyError);
    expect((err as Error).message).toMatch(new RegExp(`^haproxy ${fake.address}: 'show servers state': `));
  });

  it('reports an empty reply (closed without an answer) as a HaproxyReplyError, not success', async () => {
    const fake = await fakeStatsSocket(answer(''));
    const err = await caught(client(fake.address).setServerState({ backend: 'be', server: 's2' }, 'maint'));
    expect(err).toBeInstanceOf(HaproxyReplyError);
    expect((err as Error).message).toContain('empty reply');
  });

  it('returns the raw reply from send()', async () => {
    const fake = await fakeStatsSocket(answer('1 (initial 1)\n\n'));
    expect(await client(fake.address).send('get weight be/s2')).toBe('1 (initial 1)\n\n');
    expect(fake.lines).toEqual(['get weight be/s2']);
  });

  it('talks to a tcp:// address too', async () => {
    const fake = await fakeStatsSocket(answer('\n'), 'tcp');
    await client(fake.address).setServerState({ backend: 'be', server: 's1' }, 'ready');
    expect(fake.lines).toEqual(['set server be/s1 state ready']);
  });
});

describe('HaproxyClient: nothing unsafe leaves the process', () => {
  it.each([
    ['a ; in the backend', { backend: 'be;set server x/y state ready', server: 's2' }],
    ['a newline in the server', { backend: 'be', server: 's2\nshow info' }],
    ['a space', { backend: 'be', server: 's 2' }],
    ['an empty name', { backend: '', server: 's2' }],
    ['non-ASCII', { backend: 'café', server: 's2' }],
    ['an overlong name', { backend: 'b'.repeat(300), server: 's2' }],
  ])('refuses %s without connecting', async (_what, ref) => {
    const fake = await fakeStatsSocket(answer('\n'));
    const err = await caught(client(fake.address).setServerState(ref, 'maint'));
    expect(err).toBeInstanceOf(HaproxyCommandError);
    expect((err as Error).message).toMatch(/not sent: .* is not a valid HAProxy name/);
    expect((err as Error).message).not.toMatch(/\n/);
    expect(fake.connections).toBe(0);
  });

  it.each([
    ['two lines', 'show info\nset server be/s2 state maint'],
    ['a carriage return', 'show info\r'],
    ['an empty line', ''],
    ['an overlong line', `show stat ${'x'.repeat(2000)}`],
  ])('send() refuses %s without connecting', async (_what, line) => {
    const fake = await fakeStatsSocket(answer('\n'));
    const err = await caught(client(fake.address).send(line));
    expect(err).toBeInstanceOf(HaproxyCommandError);
    expect((err as Error).message).toContain('not sent');
    expect(fake.connections).toBe(0);
  });

  it('refuses a bad backend for show commands without connecting', async () => {
    const fake = await fakeStatsSocket(answer('\n'));
    await expect(client(fake.address).showServersState('be;show info')).rejects.toThrow(HaproxyCommandError);
    expect(fake.connections).toBe(0);
  });
});

describe('HaproxyClient: connection failures', () => {
  it('times out on a socket that accepts and never answers, and closes the connection', async () => {
    let held: Socket | undefined;
    const fake = await fakeStatsSocket((_line, socket) => {
      held = socket;
    });
    const err = await caught(client(fake.address, 200).showInfo());
    // The command arrived and was left unanswered; the client gave up with its timeout, not another error.
    expect(fake.lines).toEqual(['show info']);
    expect(err).toBeInstanceOf(HaproxyConnectError);
    expect((err as HaproxyConnectError).code).toBe('HAPROXY_TIMEOUT');
    expect((err as Error).message).toBe(`haproxy ${fake.address}: no reply to 'show info' within 200 ms`);
    // The client destroyed its end: writing to it now fails (EPIPE), and the server side is destroyed too.
    held?.write('late\n');
    await expect.poll(() => held?.destroyed, { timeout: 1000 }).toBe(true);
  });

  it('times out on a reply that never ends', async () => {
    const fake = await fakeStatsSocket((_line, socket) => socket.write('1\n# be_id'));
    const err = await caught(client(fake.address, 150).showServersState());
    expect((err as HaproxyConnectError).code).toBe('HAPROXY_TIMEOUT');
  });

  it('reports a missing unix socket as HaproxyConnectError', async () => {
    const path = join(dir, 'missing.sock');
    const err = await caught(client(path).showInfo());
    expect(err).toBeInstanceOf(HaproxyConnectError);
    expect((err as HaproxyConnectError).code).toBe('HAPROXY_CONNECT');
    expect((err as Error).message).toBe(
      `haproxy ${path}: cannot connect: ENOENT: no such socket file; is haproxy running with this stats socket?`,
    );
  });

  it('reports a refused tcp connection as HaproxyConnectError', async () => {
    const port = await freePort();
    const err = await caught(client(`tcp://127.0.0.1:${port}`).showInfo());
    expect(err).toBeInstanceOf(HaproxyConnectError);
    expect((err as HaproxyConnectError).code).toBe('HAPROXY_CONNECT');
    expect((err as Error).message).toContain(`haproxy tcp://127.0.0.1:${port}: cannot connect: ECONNREFUSED`);
  });

  it('frees the connection slot after a timeout', async () => {
    let first = true;
    const fake = await fakeStatsSocket((_line, socket) => {
      if (first) first = false;
      else socket.end('\n');
    });
    const c = client(fake.address, 150, 1);
    await expect(c.setServerState({ backend: 'be', server: 's2' }, 'maint')).rejects.toThrow(HaproxyConnectError);
    await expect(c.setServerState({ backend: 'be', server: 's2' }, 'maint')).resolves.toBeUndefined();
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('refuses timeoutMs %s', (timeoutMs) => {
    expect(() => new HaproxyClient(parseSocketAddress('/run/a.sock'), { timeoutMs })).toThrow(RangeError);
  });

  it('refuses maxConnections 0', () => {
    expect(() => new HaproxyClient(parseSocketAddress('/run/a.sock'), { timeoutMs: 1, maxConnections: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('HaproxyClient: connection bound', () => {
  /**
   * A fake that holds each command until `gate` of them wait (or all `total` have come), then answers them,
   * counting commands accepted but not yet answered: the client's parallelism shows whatever the timing.
   */
  async function gatedFake(gate: number, total: number) {
    const stats = { inFlight: 0, peak: 0 };
    let received = 0;
    const held: Socket[] = [];
    const fake = await fakeStatsSocket((_line, socket) => {
      received += 1;
      held.push(socket);
      stats.inFlight += 1;
      stats.peak = Math.max(stats.peak, stats.inFlight);
      if (held.length < gate && received < total) return;
      for (const s of held.splice(0)) {
        // The client sees the answer only after this, so a new connection cannot be counted early.
        stats.inFlight -= 1;
        s.end('\n');
      }
    });
    // Count at accept time too: a connection is "open" from accept until it closes.
    let openNow = 0;
    let openPeak = 0;
    fake.server.on('connection', (socket) => {
      openNow += 1;
      openPeak = Math.max(openPeak, openNow);
      socket.on('close', () => {
        openNow -= 1;
      });
    });
    return { fake, stats, openPeak: () => openPeak };
  }

  it.each([
    ['maxConnections 2', 2, 2],
    ['the default', undefined, 2],
    ['maxConnections 3', 3, 3],
  ])('never has more than the bound in flight with 10 commands (%s)', async (_what, max, bound) => {
    const { fake, stats, openPeak } = await gatedFake(bound, 10);
    const c = client(fake.address, 2000, max);
    const refs = Array.from({ length: 10 }, (_v, i) => ({ backend: 'be', server: `s${i}` }));
    await Promise.all(refs.map((ref) => c.setServerState(ref, 'maint')));
    expect(fake.lines).toHaveLength(10);
    expect(new Set(fake.lines).size).toBe(10);
    expect(stats.peak).toBe(bound);
    expect(openPeak()).toBeLessThanOrEqual(bound);
  });

  it('keeps the bound across clients separately (one per socket)', async () => {
    const { fake, stats, openPeak } = await gatedFake(2, 6);
    const a = client(fake.address, 2000, 1);
    const b = client(fake.address, 2000, 1);
    await Promise.all([
      ...[1, 2, 3].map(() => a.send('show info')),
      ...[1, 2, 3].map(() => b.send('show info')),
    ]);
    expect(stats.peak).toBe(2);
    expect(openPeak()).toBeLessThanOrEqual(2);
  });
});

describe('HaproxyClient: several set server at once', () => {
  it('chains them with ; on one connection, the read-back last, and reads each answer (replies captured from HAProxy 2.6)', async () => {
    const fake = await fakeStatsSocket(answer(reply('set-server-chained.txt') + reply('show-servers-state.txt')));
    const refs = [
      { backend: 'be2', server: 'a' },
      { backend: 'nope', server: 'x' },
      { backend: 'be2', server: 'a' },
      { backend: 'be', server: 'nope' },
      { backend: 'be2', server: 'a' },
    ];
    const { answers, dump } = await client(fake.address).setServerStates(refs.map((ref) => ({ ref, state: 'ready' as const })));
    expect(answers).toEqual([null, 'No such backend.', null, 'No such server.', null]);
    expect(dump.rows).toEqual(parseServersState(reply('show-servers-state.txt')));
    // The read-back as HAProxy wrote it: what the server state file holds.
    expect(dump.text).toBe(reply('show-servers-state.txt'));
    expect(fake.connections).toBe(1);
    expect(fake.lines[0]).toBe(
      [...refs.map((r) => `set server ${r.backend}/${r.server} state ready`), 'show servers state'].join(';'),
    );
  });

  it('splits a long batch over several lines, each within the line bound', async () => {
    const state = reply('show-servers-state-be.txt');
    const fake = await fakeStatsSocket((line, socket) => {
      const cmds = line.split(';');
      const readBack = cmds[cmds.length - 1]?.startsWith('show servers state') === true;
      socket.end('\n'.repeat(cmds.length - (readBack ? 1 : 0)) + (readBack ? state : ''));
    });
    const changes = Array.from({ length: 100 }, (_, i) => ({ ref: { backend: 'plone', server: `instance${i}` }, state: 'maint' as const }));
    const { answers } = await client(fake.address).setServerStates(changes);
    expect(answers).toEqual(changes.map(() => null));
    expect(fake.connections).toBeGreaterThan(1);
    expect(fake.lines.every((l) => Buffer.byteLength(l) <= 1024)).toBe(true);
    expect(fake.lines.join(';').split(';')).toHaveLength(101);
    expect(fake.lines[fake.lines.length - 1]).toMatch(/;show servers state$/);
  });

  it('does not send a change with a bad name, and sends the rest', async () => {
    const fake = await fakeStatsSocket(answer('\n' + reply('show-servers-state.txt')));
    const { answers } = await client(fake.address).setServerStates([
      { ref: { backend: 'be;x', server: 's' }, state: 'maint' },
      { ref: { backend: 'be', server: 's2' }, state: 'maint' },
    ]);
    expect(answers[0]).toMatch(/^not sent: backend name "be;x" is not a valid HAProxy name/);
    expect(answers[1]).toBeNull();
    // Every backend is read back: the read-back is also the server state file.
    expect(fake.lines).toEqual(['set server be/s2 state maint;show servers state']);
  });

  it('a short answer is a HaproxyReplyError (re-sent later), not success', async () => {
    const fake = await fakeStatsSocket(answer('\n'));
    const err = await caught(
      client(fake.address).setServerStates([
        { ref: { backend: 'be', server: 's1' }, state: 'maint' },
        { ref: { backend: 'be', server: 's2' }, state: 'maint' },
      ]),
    );
    expect(err).toBeInstanceOf(HaproxyReplyError);
    expect((err as Error).message).toMatch(/expected 2 answers to chained commands, read 1/);
  });
});
