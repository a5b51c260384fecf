import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpProbe, type ProbeRequest } from '../../../src/warmup/probe.js';

const OK = [{ min: 200, max: 399 }];
const servers: http.Server[] = [];

/** A real server on 127.0.0.1, a free port; closed (with its connections) after each test. */
async function serve(handler: http.RequestListener): Promise<{ server: http.Server; base: string; port: number }> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, base: `http://127.0.0.1:${port}`, port };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

function req(url: string, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return { url: new URL(url), headers: [], timeoutMs: 2000, ...extra };
}

describe('httpProbe', () => {
  it('passes on 200 and sends a plain GET with Connection: close', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const { base } = await serve((rq, res) => {
      seen.push({ ...rq.headers, method: rq.method, url: rq.url });
      res.end('hello');
    });
    const r = await httpProbe(req(`${base}/Plone?x=1`), OK);
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/Plone?x=1', connection: 'close' });
  });

  it('names the tool and its version in User-Agent, so warm-ups stand out in the access log', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const { base } = await serve((rq, res) => {
      seen.push(rq.headers);
      res.end('ok');
    });
    await httpProbe(req(`${base}/`), OK);
    const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(seen[0]?.['user-agent']).toBe(`supervisor-haproxy/${version} (warm-up)`);
  });

  it('fails on 503 with the status', async () => {
    const { base } = await serve((_rq, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    expect(await httpProbe(req(`${base}/`), OK)).toMatchObject({
      ok: false,
      status: 503,
      error: 'unexpected status 503',
    });
  });

  it('judges the status by the expect ranges', async () => {
    const { base } = await serve((rq, res) => {
      res.statusCode = rq.url === '/missing' ? 404 : 200;
      res.end();
    });
    expect(await httpProbe(req(`${base}/missing`), [{ min: 404, max: 404 }])).toMatchObject({ ok: true, status: 404 });
    expect(await httpProbe(req(`${base}/`), [{ min: 300, max: 399 }])).toMatchObject({ ok: false, status: 200 });
    expect(await httpProbe(req(`${base}/`), [{ min: 300, max: 399 }, { min: 200, max: 200 }])).toMatchObject({
      ok: true,
    });
  });

  it('tells when the app accepts the connection, before its (slow) answer; a refused one is not connected', async () => {
    let answer!: () => void;
    const { base, port } = await serve((_rq, res) => {
      answer = () => res.end('ok');
    });
    let connectedAt: 'before answer' | 'after answer' | null = null;
    let answered = false;
    const p = httpProbe(req(`${base}/`, { onConnect: () => (connectedAt = answered ? 'after answer' : 'before answer') }), OK);
    await vi.waitFor(() => expect(answer).toBeTypeOf('function'));
    expect(connectedAt).toBe('before answer');
    answered = true;
    answer();
    expect(await p).toMatchObject({ ok: true });
    servers.splice(0).forEach((s) => {
      s.closeAllConnections();
      s.close();
    });
    await new Promise((r) => setTimeout(r, 20));
    let called = false;
    const refused = await httpProbe(req(`http://127.0.0.1:${port}/`, { onConnect: () => (called = true) }), OK);
    expect(refused).toMatchObject({ ok: false, error: 'ECONNREFUSED', connected: false });
    expect(called).toBe(false);
  });

  it('waits for the whole body before passing', async () => {
    let finish!: () => void;
    let flushed!: () => void;
    const partSent = new Promise<void>((resolve) => (flushed = resolve));
    const { base } = await serve((_rq, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html>', () => flushed());
      finish = () => res.end('</html>');
    });
    const order: string[] = [];
    const p = httpProbe(req(`${base}/`), OK).finally(() => order.push('probe settled'));
    await partSent;
    // Two turns of the event loop, each with a poll for I/O: a probe that passed on the head would have by now.
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    order.push('body ended');
    finish();
    const r = await p;
    expect(r.ok).toBe(true);
    expect(order).toEqual(['body ended', 'probe settled']);
  });

  it('times out on a body slower than the timeout, keeping the status it saw', async () => {
    let closed = false;
    const { base } = await serve((rq, res) => {
      res.writeHead(200);
      res.write('start of a page');
      // The body never ends: only the probe's timeout can end this request.
      rq.socket.on('close', () => (closed = true));
    });
    const r = await httpProbe(req(`${base}/`, { timeoutMs: 200 }), OK);
    expect(r).toMatchObject({ ok: false, status: 200, error: 'timeout after 200ms' });
    await expect.poll(() => closed).toBe(true); // the request was destroyed, not left running
  });

  it('times out with status null when no response head arrives', async () => {
    const { base } = await serve(() => {
      // never answers
    });
    expect(await httpProbe(req(`${base}/`, { timeoutMs: 100 }), OK)).toMatchObject({
      ok: false,
      status: null,
      error: 'timeout after 100ms',
    });
  });

  it('reports connection refused on a closed port without throwing', async () => {
    const { server, port } = await serve(() => undefined);
    servers.pop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await httpProbe(req(`http://127.0.0.1:${port}/`), OK)).toMatchObject({
      ok: false,
      status: null,
      error: 'ECONNREFUSED',
    });
  });

  it('fails when the connection drops in the middle of the body', async () => {
    const { base } = await serve((_rq, res) => {
      res.writeHead(200, { 'content-length': '100' });
      // Dropped once the first part is out, ninety bytes short.
      res.write('only ten b', () => res.socket?.destroy());
    });
    const r = await httpProbe(req(`${base}/`), OK);
    expect(r).toMatchObject({ ok: false, status: 200 });
  });

  it('sends the default Host, lets a configured Host replace it, and sends extra headers', async () => {
    const seen: http.IncomingMessage['rawHeaders'][] = [];
    const { base, port } = await serve((rq, res) => {
      seen.push(rq.rawHeaders);
      res.end();
    });
    await httpProbe(req(`${base}/`), OK);
    await httpProbe(
      req(`${base}/`, {
        headers: [
          ['host', 'www.example.org'],
          ['X-Warmup', 'a'],
          ['x-warmup', 'b'],
        ],
      }),
      OK,
    );
    const pairs = (raw: string[]) => raw.flatMap((v, i) => (i % 2 === 0 ? [[v.toLowerCase(), raw[i + 1]]] : []));
    expect(pairs(seen[0] ?? []).filter(([k]) => k === 'host')).toEqual([['host', `127.0.0.1:${port}`]]);
    const second = pairs(seen[1] ?? []);
    expect(second.filter(([k]) => k === 'host')).toEqual([['host', 'www.example.org']]);
    expect(second.filter(([k]) => k === 'x-warmup')).toEqual([
      ['x-warmup', 'a'],
      ['x-warmup', 'b'],
    ]);
  });

  it('opens a new connection for every probe (no pooling)', async () => {
    const sockets = new Set<unknown>();
    const { base } = await serve((rq, res) => {
      sockets.add(rq.socket);
      res.end();
    });
    await httpProbe(req(`${base}/`), OK);
    await httpProbe(req(`${base}/`), OK);
    expect(sockets.size).toBe(2);
  });

  it('rejects with the signal reason when aborted mid-request, and drops the connection', async () => {
    let closed = false;
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const { base } = await serve((rq) => {
      rq.socket.on('close', () => (closed = true));
      arrived();
    });
    const ac = new AbortController();
    const reason = new Error('superseded by STOPPING');
    const p = httpProbe(req(`${base}/`, { signal: ac.signal, timeoutMs: 5000 }), OK);
    await arrival;
    ac.abort(reason);
    // The abort's reason, not the 5 s timeout's result: the probe ended on the abort.
    await expect(p).rejects.toBe(reason);
    await expect.poll(() => closed).toBe(true);
  });

  it('rejects at once for a signal that is already aborted, without connecting', async () => {
    let hits = 0;
    const { base } = await serve((_rq, res) => {
      hits++;
      res.end();
    });
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(httpProbe(req(`${base}/`, { signal: ac.signal }), OK)).rejects.toThrow('gone');
    // a probe after it proves the server works, so hits === 0 above is meaningful
    await httpProbe(req(`${base}/`), OK);
    expect(hits).toBe(1);
  });

  it('reports a bad header value as a failure instead of throwing', async () => {
    const { base } = await serve((_rq, res) => res.end());
    const r = await httpProbe(req(`${base}/`, { headers: [['X-Bad', 'a\r\nInjected: 1']] }), OK);
    expect(r).toMatchObject({ ok: false, status: null });
  });

  it('reports an unsupported protocol as a failure', async () => {
    expect(await httpProbe(req('ftp://127.0.0.1/x'), OK)).toMatchObject({
      ok: false,
      status: null,
      error: 'unsupported protocol ftp:',
    });
  });
});
