// Stand-ins the listener talks to, in a worker thread: an HAProxy stats socket, supervisord's XML-RPC, a warm-up target.

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

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

// `show servers state` as HAProxy 2.6 prints it (test/fixtures/haproxy/2.6/show-servers-state.txt): version line,
// header, one row per server, then the empty line that ends every answer.
const STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight ' +
  'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state ' +
  'bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr ' +
  'srv_agent_addr srv_agent_port';
const ADMIN_BITS: Record<string, number> = { ready: 0, maint: 0x01, drain: 0x08 };
const SET_SERVER = /^set server ([A-Za-z0-9_.:-]+)\/([A-Za-z0-9_.:-]+) state (ready|maint|drain)$/;
const START_TIME = Math.floor(Date.now() / 1000);

function showInfo(): string {
  return [
    'Name: HAProxy',
    'Version: 2.6.12-1+deb12u4',
    'Release_date: 2026/10/17',
    'Nbthread: 2',
    'Nbproc: 1',
    'Process_num: 1',
    `Pid: ${process.pid}`,
    'Uptime: 0d 0h00m00s',
    'Uptime_sec: 0',
    'Maxconn: 9984',
    'CurrConns: 0',
    `Start_time_sec: ${START_TIME}`,
    'Tainted: 0',
    '',
    '',
  ].join('\n');
}

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
  const admin = new Map<string, string>(data.servers.map((s) => [`${s.backend}/${s.server}`, 'ready']));
  const watched = new Set(data.watch);

  const warmup: HttpServer = createHttpServer((req, res) => {
    counts.warmupRequests++;
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('warm\n');
  });
  await new Promise<void>((r) => warmup.listen(0, '127.0.0.1', r));
  const warmupPort = (warmup.address() as { port: number }).port;

  const serversState = (backend: string | undefined): string => {
    const rows: string[] = [];
    data.servers.forEach((s, i) => {
      if (backend !== undefined && s.backend !== backend) return;
      const bits = ADMIN_BITS[admin.get(`${s.backend}/${s.server}`) ?? 'ready'] ?? 0;
      const op = bits & 0x01 ? 0 : 2;
      const srvPort = s.port === 'warmup' ? warmupPort : s.port;
      rows.push(`3 ${s.backend} ${i + 1} ${s.server} 127.0.0.1 ${op} ${bits} 1 1 0 15 3 2 6 0 0 0 - ${srvPort} - 0 0 - - 0`);
    });
    if (backend !== undefined && rows.length === 0) return "Can't find backend.\n\n";
    return `1\n${STATE_HEADER}\n${rows.join('\n')}${rows.length > 0 ? '\n' : ''}\n`;
  };

  const answer = (line: string): string => {
    const set = SET_SERVER.exec(line);
    if (set !== null) {
      counts.setServer++;
      counts.lastApplyAt = Date.now();
      const key = `${set[1]}/${set[2]}`;
      if (!admin.has(key)) return 'No such server.\n\n';
      admin.set(key, set[3] as string);
      if (set[3] === 'ready' && watched.has(key)) port.postMessage({ type: 'ready', server: key } satisfies StubMessage);
      return '\n';
    }
    if (line === 'show servers state' || line.startsWith('show servers state ')) {
      counts.showServersState++;
      counts.lastApplyAt = Date.now();
      const backend = line.slice('show servers state'.length).trim();
      return serversState(backend === '' ? undefined : backend);
    }
    if (line === 'show info') {
      counts.showInfo++;
      return showInfo();
    }
    counts.other++;
    return 'Unknown command. Please enter one of the following commands only :\n\n';
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
      port.postMessage({ type: 'counts', counts: { ...counts, states: Object.fromEntries(admin) } } satisfies StubMessage);
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
