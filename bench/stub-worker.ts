// Stand-ins the listener talks to, in a worker thread: the fake HAProxy on a stats socket, supervisord's XML-RPC, a warm-up target.

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { FakeServers } from '../test/support/fake-haproxy.js';

export interface StubServer {
  readonly backend: string;
  readonly server: string;
  /** Where the server lives; `warmup` means the warm-up target this worker runs. */
  readonly port: number | 'warmup';
}

export interface StubProcess {
  readonly name: string;
  readonly group: string;
  readonly state: string;
  readonly pid: number;
}

export interface StubWorkerData {
  /** Unix socket path of the stats-socket stand-in. */
  readonly haproxySocket: string;
  /** Unix socket path of the XML-RPC stand-in. */
  readonly rpcSocket: string;
  readonly servers: readonly StubServer[];
  /** What getAllProcessInfo answers. */
  readonly processes: readonly StubProcess[];
  /** `backend/server` keys whose `set server … state ready` is reported to the parent as it happens. */
  readonly watch: readonly string[];
}

export interface StubCounts {
  readonly setServer: number;
  readonly showServersState: number;
  readonly showInfo: number;
  readonly other: number;
  readonly rpcCalls: number;
  readonly warmupRequests: number;
  /** Date.now() of the last `set server` or `show servers state` (heartbeats not counted). */
  readonly lastApplyAt: number;
  /** Admin state of every server now. */
  readonly states: Readonly<Record<string, string>>;
}

export type StubMessage =
  | { readonly type: 'listening'; readonly warmupPort: number }
  | { readonly type: 'ready'; readonly server: string }
  | { readonly type: 'counts'; readonly counts: StubCounts };

const START_TIME = Math.floor(Date.now() / 1000);

/** `show info` as HAProxy 2.6 answers it, the fields the listener reads among others. */
const showInfo = (): Record<string, string | number> => ({
  Name: 'HAProxy',
  Version: '2.6.12-1+deb12u4',
  Release_date: '2026/10/17',
  Nbthread: 2,
  Nbproc: 1,
  Process_num: 1,
  Pid: process.pid,
  Uptime: '0d 0h00m00s',
  Uptime_sec: 0,
  Maxconn: 9984,
  CurrConns: 0,
  Start_time_sec: START_TIME,
  Tainted: 0,
});

function xmlValue(v: string | number): string {
  return typeof v === 'number' ? `<value><int>${v}</int></value>` : `<value><string>${v}</string></value>`;
}

const STATE_CODES: Record<string, number> = { STOPPED: 0, STARTING: 10, RUNNING: 20, BACKOFF: 30, STOPPING: 40, EXITED: 100, FATAL: 200 };

/** getAllProcessInfo's answer, member for member as supervisord 4.2.5 sends it (reference §6). */
function allProcessInfo(processes: readonly StubProcess[]): string {
  const now = Math.floor(Date.now() / 1000);
  const structs = processes.map((p) => {
    const members: [string, string | number][] = [
      ['name', p.name],
      ['group', p.group],
      ['start', now],
      ['stop', 0],
      ['now', now],
      ['state', STATE_CODES[p.state] ?? 1000],
      ['statename', p.state],
      ['spawnerr', ''],
      ['exitstatus', 0],
      ['logfile', ''],
      ['stdout_logfile', ''],
      ['stderr_logfile', ''],
      ['pid', p.pid],
      ['description', `pid ${p.pid}`],
    ];
    return `<value><struct>${members.map(([k, v]) => `<member><name>${k}</name>${xmlValue(v)}</member>`).join('')}</struct></value>`;
  });
  return `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>${structs.join('')}</data></array></value>\n</param>\n</params>\n</methodResponse>\n`;
}

const FAULT = `<?xml version='1.0'?>\n<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>UNKNOWN_METHOD</string></value></member></struct></value></fault></methodResponse>\n`;

async function main(port: NonNullable<typeof parentPort>, data: StubWorkerData): Promise<void> {
  const counts = { setServer: 0, showServersState: 0, showInfo: 0, other: 0, rpcCalls: 0, warmupRequests: 0, lastApplyAt: 0 };
  const watched = new Set(data.watch);

  const warmup: HttpServer = createHttpServer((req, res) => {
    counts.warmupRequests++;
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('warm\n');
  });
  await new Promise<void>((r) => warmup.listen(0, '127.0.0.1', r));
  const warmupPort = (warmup.address() as { port: number }).port;
  const fake = new FakeServers(
    data.servers.map((s) => ({ backend: s.backend, server: s.server, addr: '127.0.0.1', port: s.port === 'warmup' ? warmupPort : s.port })),
  );

  const answer = (command: string): string => {
    const reply = fake.answer(command, showInfo);
    const set = /^set server (\S+) state (\S+)$/.exec(command);
    if (set !== null) {
      counts.setServer++;
      counts.lastApplyAt = Date.now();
      if (set[2] === 'ready' && reply === '\n' && watched.has(set[1] as string)) port.postMessage({ type: 'ready', server: set[1] as string } satisfies StubMessage);
    } else if (command.startsWith('show servers state')) {
      counts.showServersState++;
      counts.lastApplyAt = Date.now();
    } else if (command === 'show info') counts.showInfo++;
    else counts.other++;
    return reply;
  };

  // Non-interactive CLI as HAProxy runs it: one command line, the answers, then HAProxy closes.
  const haproxy: NetServer = createNetServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      // `;` runs several commands on one line, each answered in turn (reference §1), as the applier sends them.
      conn.end(buf.slice(0, nl).split(';').map(answer).join(''));
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((r) => haproxy.listen(data.haproxySocket, r));

  const rpc: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counts.rpcCalls++;
      const body = Buffer.concat(chunks).toString('utf8');
      const method = /<methodName>([^<]*)<\/methodName>/.exec(body)?.[1];
      const xml = method === 'supervisor.getAllProcessInfo' ? allProcessInfo(data.processes) : FAULT;
      res.writeHead(200, { 'Content-Type': 'text/xml', Server: 'Medusa/1.12' }).end(xml);
    });
  });
  await new Promise<void>((r) => rpc.listen(data.rpcSocket, r));

  port.on('message', (msg: 'counts' | 'stop') => {
    if (msg === 'counts') {
      port.postMessage({ type: 'counts', counts: { ...counts, states: Object.fromEntries([...fake.admin.keys()].map((k) => [k, fake.stateOf(k)])) } } satisfies StubMessage);
      return;
    }
    for (const s of [warmup, haproxy, rpc]) {
      s.close();
      if ('closeAllConnections' in s) s.closeAllConnections();
    }
    port.close();
  });
  port.postMessage({ type: 'listening', warmupPort } satisfies StubMessage);
}

if (parentPort !== null) void main(parentPort, workerData as StubWorkerData);
