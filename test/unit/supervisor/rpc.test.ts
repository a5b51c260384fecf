// SupervisorRpc against a fake supervisord HTTP endpoint on a unix socket in a temp dir.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { XmlRpcFault, XmlRpcTransportError } from '../../../src/errors.js';
import { SupervisorRpc, toProcessInfo, type SupervisorRpcOptions } from '../../../src/supervisor/rpc.js';
import { encodeCall, escapeXml, type XmlRpcValue } from '../../../src/supervisor/xmlrpc.js';
import { makeTempDir, removeDir } from '../../support/tmp.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (seen: Seen, res: ServerResponse) => void;

// Response builders in the layout of Python's xmlrpc.client (what supervisord sends).
const encodeValue = (v: XmlRpcValue): string => {
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') return `<value><int>${v}</int></value>`;
  if (Array.isArray(v)) return `<value><array><data>\n${v.map((x) => `${encodeValue(x)}\n`).join('')}</data></array></value>`;
  const members = Object.entries(v).map(([k, x]) => `<member>\n<name>${k}</name>\n${encodeValue(x)}\n</member>\n`);
  return `<value><struct>\n${members.join('')}</struct></value>`;
};
const responseXml = (v: XmlRpcValue): string =>
  `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${encodeValue(v)}\n</param>\n</params>\n</methodResponse>\n`;
const faultXml = (code: number, text: string): string =>
  `<?xml version='1.0'?>\n<methodResponse>\n<fault>\n${encodeValue({ faultCode: code, faultString: text })}\n</fault>\n</methodResponse>\n`;

const info = (name: string, group: string, state: number, statename: string, pid: number) => ({
  name,
  group,
  start: 1795470291,
  stop: 1795470276,
  now: 1795470454,
  state,
  statename,
  spawnerr: '',
  exitstatus: 0,
  logfile: `/rig/log/${name}.log`,
  stdout_logfile: `/rig/log/${name}.log`,
  stderr_logfile: `/rig/log/${name}-err.log`,
  pid,
  description: pid === 0 ? 'Nov 23 09:42 PM' : `pid ${pid}, uptime 0:02:43`,
});

const xmlOk = (res: ServerResponse, xml: string): void => {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': body.length, Server: 'Medusa/1.12' });
  res.end(body);
};

let dir: string;
let sock: string;
let server: Server;
let handler: Handler;
let seen: Seen[] = [];

beforeAll(async () => {
  dir = await makeTempDir('rpcu-');
  sock = join(dir, 'fake.sock');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

afterEach(() => {
  seen = [];
  server.closeAllConnections();
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await removeDir(dir);
});

const rpc = (over: Partial<SupervisorRpcOptions> = {}): SupervisorRpc =>
  new SupervisorRpc({ url: `unix://${sock}`, username: null, password: null, timeoutMs: 2000, ...over });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('SupervisorRpc over a unix socket', () => {
  it('POSTs text/xml to /RPC2 and decodes the answer', async () => {
    handler = (_s, res) => xmlOk(res, responseXml('4.2.5'));
    expect(await rpc().call('supervisor.getSupervisorVersion')).toBe('4.2.5');
    expect(seen).toHaveLength(1);
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/RPC2');
    expect(req?.headers['content-type']).toBe('text/xml');
    expect(req?.headers['authorization']).toBeUndefined();
    expect(req?.body).toBe(encodeCall('supervisor.getSupervisorVersion', []));
  });

  it('sends HTTP Basic credentials when a username is set', async () => {
    handler = (_s, res) => xmlOk(res, responseXml([]));
    expect(await rpc({ username: 'alice', password: 'secret' }).getAllProcessInfo()).toEqual([]);
    expect(seen[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('alice:secret').toString('base64')}`);
    expect(seen[0]?.body).toBe(encodeCall('supervisor.getAllProcessInfo', []));
  });

  it('sends a Content-Length in bytes for a non-ASCII namespec', async () => {
    handler = (_s, res) => xmlOk(res, responseXml(info('café', 'café', 20, 'RUNNING', 42)));
    const p = await rpc().getProcessInfo('café:café');
    expect(p.name).toBe('café');
    expect(Number(seen[0]?.headers['content-length'])).toBe(Buffer.byteLength(seen[0]?.body ?? ''));
    expect(seen[0]?.body).toContain('<string>café:café</string>');
  });

  it('maps getAllProcessInfo structs to ProcessInfo with state names from the codes', async () => {
    handler = (_s, res) =>
      xmlOk(
        res,
        responseXml([
          info('app_00', 'app', 20, 'RUNNING', 16738),
          info('web1', 'web', 0, 'STOPPED', 0),
          info('failer', 'failer', 200, 'FATAL', 0),
          info('odd', 'odd', 999, 'ODD', 0),
        ]),
      );
    const all = await rpc().getAllProcessInfo();
    expect(all.map((p) => [p.group, p.name, p.state, p.pid])).toEqual([
      ['app', 'app_00', 'RUNNING', 16738],
      ['web', 'web1', 'STOPPED', 0],
      ['failer', 'failer', 'FATAL', 0],
      ['odd', 'odd', 'UNKNOWN', 0],
    ]);
    expect(all[0]).toEqual({
      name: 'app_00',
      group: 'app',
      state: 'RUNNING',
      statename: 'RUNNING',
      pid: 16738,
      start: 1795470291,
      now: 1795470454,
      description: 'pid 16738, uptime 0:02:43',
      spawnerr: '',
      exitstatus: 0,
    });
  });

  it('startProcess / stopProcess send the namespec and wait flag', async () => {
    handler = (_s, res) => xmlOk(res, responseXml(true));
    expect(await rpc().startProcess('web:web1')).toBe(true);
    expect(await rpc().stopProcess('web:web1', false)).toBe(true);
    expect(seen.map((s) => s.body)).toEqual([
      encodeCall('supervisor.startProcess', ['web:web1', true]),
      encodeCall('supervisor.stopProcess', ['web:web1', false]),
    ]);
  });

  it('a <fault> (HTTP 200) rejects with XmlRpcFault', async () => {
    handler = (_s, res) => xmlOk(res, faultXml(10, 'BAD_NAME: nosuch'));
    const e = await rejection(rpc().stopProcess('nosuch'));
    expect(e).toBeInstanceOf(XmlRpcFault);
    expect(e).toMatchObject({ faultCode: 10, faultString: 'BAD_NAME: nosuch' });
  });

  it('401 rejects with a transport error that says where credentials go', async () => {
    handler = (_s, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="default"', Connection: 'close', 'Content-Type': 'text/html' });
      res.end('<html><body>Unauthorized</body></html>');
    };
    const e = await rejection(rpc().getAllProcessInfo());
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect(e.message).toMatch(/HTTP 401/);
    expect(e.message).toMatch(/SUPERVISOR_USERNAME/);
    expect(e.message).toMatch(/SUPERVISOR_PASSWORD/);
    expect(e.message).toMatch(/environment=/);
  });

  it('other non-200 statuses reject naming the status', async () => {
    handler = (_s, res) => {
      res.writeHead(400, { 'Content-Type': 'text/html' });
      res.end('<html>Bad Request</html>');
    };
    const e = await rejection(rpc().getAllProcessInfo());
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect(e.message).toMatch(/HTTP 400/);
    expect(e.message).not.toMatch(/SUPERVISOR_USERNAME/);
  });

  it('a server that never answers times out as a transport error', async () => {
    handler = () => undefined;
    const e = await rejection(rpc({ timeoutMs: 150 }).getAllProcessInfo());
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect(e.message).toMatch(/no answer within 150 ms/);
  });

  it('a body that stops half way also times out', async () => {
    handler = (_s, res) => {
      res.writeHead(200, { 'Content-Type': 'text/xml' });
      res.write("<?xml version='1.0'?>\n<methodResponse>\n");
    };
    const e = await rejection(rpc({ timeoutMs: 150 }).getAllProcessInfo());
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect(e.message).toMatch(/no answer within 150 ms/);
  });

  it('a missing socket is a transport error', async () => {
    const e = await rejection(rpc({ url: `unix://${join(dir, 'nope.sock')}` }).getAllProcessInfo());
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect(e.message).toMatch(/ENOENT/);
  });

  it('rejects malformed answers and wrongly typed fields as transport errors', async () => {
    handler = (_s, res) => xmlOk(res, responseXml({ name: 'x' }));
    expect(await rejection(rpc().getProcessInfo('x'))).toBeInstanceOf(XmlRpcTransportError);
    handler = (_s, res) => xmlOk(res, responseXml('yes'));
    expect(await rejection(rpc().startProcess('x'))).toBeInstanceOf(XmlRpcTransportError);
    handler = (_s, res) => xmlOk(res, '<html>not xml-rpc</html>');
    expect(await rejection(rpc().getAllProcessInfo())).toBeInstanceOf(XmlRpcTransportError);
  });
});

describe('reading the body to EOF (supervisord miscounts Content-Length for non-ASCII)', () => {
  let raw: NetServer;
  let rawSock: string;
  let reply: string;

  beforeAll(async () => {
    rawSock = join(dir, 'raw.sock');
    raw = createNetServer((s: Socket) => {
      s.once('data', () => s.end(reply));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => raw.listen(rawSock, r));
  });
  afterAll(async () => {
    await new Promise((r) => raw.close(r));
  });

  const groupResult = responseXml([{ name: 'café', group: 'café', status: 80, description: 'OK' }]);

  it('reads a non-ASCII answer without Content-Length up to the close', async () => {
    reply = `HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n${groupResult}`;
    const v = await new SupervisorRpc({ url: `unix://${rawSock}`, username: null, password: null, timeoutMs: 2000 }).call(
      'supervisor.stopProcessGroup',
      ['café'],
    );
    expect(v).toEqual([{ name: 'café', group: 'café', status: 80, description: 'OK' }]);
  });

  it('a Content-Length counted in characters fails as a transport error, never hangs', async () => {
    // As observed: the header says 468 for a 469-byte body (one é), so the final '>' is cut off.
    reply = `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${groupResult.length}\r\n\r\n${groupResult}`;
    expect(Buffer.byteLength(groupResult) - groupResult.length).toBe(2);
    const e = await rejection(
      new SupervisorRpc({ url: `unix://${rawSock}`, username: null, password: null, timeoutMs: 2000 }).call(
        'supervisor.stopProcessGroup',
        ['café'],
      ),
    );
    expect(e).toBeInstanceOf(XmlRpcTransportError);
    expect(e.message).not.toMatch(/no answer within/);
    expect(e.message).toMatch(/Content-Length miscounted|malformed XML-RPC/);
  });
});

describe('SupervisorRpc over http://host:port', () => {
  it('calls /RPC2 on the TCP endpoint', async () => {
    const tcp = createServer((req, res) => {
      expect(req.url).toBe('/RPC2');
      xmlOk(res, responseXml(5086));
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    try {
      const addr = tcp.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      const v = await new SupervisorRpc({ url: `http://127.0.0.1:${port}`, username: null, password: null, timeoutMs: 2000 }).call(
        'supervisor.getPID',
      );
      expect(v).toBe(5086);
    } finally {
      tcp.closeAllConnections();
      await new Promise((r) => tcp.close(r));
    }
  });

  it.each(['ftp://x', 'not a url', 'unix://'])('rejects the url %s', (url) => {
    expect(() => new SupervisorRpc({ url, username: null, password: null, timeoutMs: 1 })).toThrow(XmlRpcTransportError);
  });
});

describe('toProcessInfo', () => {
  it('names the field that is missing or mistyped', () => {
    const good = info('sleeper', 'sleeper', 20, 'RUNNING', 5);
    expect(toProcessInfo(good).state).toBe('RUNNING');
    expect(() => toProcessInfo({ ...good, pid: '5' })).toThrow(/'pid'/);
    const { spawnerr: _drop, ...noSpawnerr } = good;
    expect(() => toProcessInfo(noSpawnerr)).toThrow(/'spawnerr'/);
    expect(() => toProcessInfo([good])).toThrow(XmlRpcTransportError);
  });
});
