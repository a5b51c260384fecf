// The one module that talks to supervisord's XML-RPC API (POST /RPC2 over its unix socket or HTTP).

import { request, type IncomingMessage, type RequestOptions } from 'node:http';
import { XmlRpcTransportError } from '../errors.js';
import { STATE_CODES, type ProcessState } from './types.js';
import { decodeResponse, encodeCall, type XmlRpcParam, type XmlRpcValue } from './xmlrpc.js';

export interface ProcessInfo {
  name: string;
  group: string;
  state: ProcessState;
  statename: string;
  pid: number;
  start: number;
  now: number;
  description: string;
  spawnerr: string;
  exitstatus: number;
}

export interface SupervisorRpcOptions {
  /** `unix:///path/to/supervisor.sock` or `http://host:port` (the forms of $SUPERVISOR_SERVER_URL). */
  url: string;
  username: string | null;
  password: string | null;
  /** Bound on the whole call: connect, request, response body. */
  timeoutMs: number;
}

type Endpoint = Pick<RequestOptions, 'socketPath' | 'host' | 'port'>;

function endpointOf(url: string): Endpoint {
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (socketPath === '') throw new XmlRpcTransportError(`supervisord url ${url}: no socket path`);
    return { socketPath };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new XmlRpcTransportError(`supervisord url ${url}: expected unix:///path or http://host:port`);
  }
  if (parsed.protocol !== 'http:') {
    throw new XmlRpcTransportError(`supervisord url ${url}: expected unix:///path or http://host:port`);
  }
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 80) };
}

type Struct = { [k: string]: XmlRpcValue };

function str(s: Struct, key: string): string {
  const v = s[key];
  if (typeof v !== 'string') throw badField(key, v, 'string');
  return v;
}

function num(s: Struct, key: string): number {
  const v = s[key];
  if (typeof v !== 'number') throw badField(key, v, 'number');
  return v;
}

const badField = (key: string, v: XmlRpcValue | undefined, type: string): XmlRpcTransportError =>
  new XmlRpcTransportError(`supervisord process info: '${key}' is ${JSON.stringify(v)}, expected a ${type}`);

const isStruct = (v: XmlRpcValue): v is Struct =>
  typeof v === 'object' && !Array.isArray(v);

/** One struct of getProcessInfo / getAllProcessInfo, checked and typed. */
export function toProcessInfo(v: XmlRpcValue): ProcessInfo {
  if (!isStruct(v)) throw new XmlRpcTransportError('supervisord process info is not a struct');
  const code = num(v, 'state');
  return {
    name: str(v, 'name'),
    group: str(v, 'group'),
    // Codes are fixed by supervisord (STOPPED 0 … UNKNOWN 1000); an unheard-of one is UNKNOWN to us too.
    state: STATE_CODES[code] ?? 'UNKNOWN',
    statename: str(v, 'statename'),
    pid: num(v, 'pid'),
    start: num(v, 'start'),
    now: num(v, 'now'),
    description: str(v, 'description'),
    spawnerr: str(v, 'spawnerr'),
    exitstatus: num(v, 'exitstatus'),
  };
}

function expectBoolean(method: string, v: XmlRpcValue): boolean {
  if (typeof v !== 'boolean') throw new XmlRpcTransportError(`${method} returned ${JSON.stringify(v)}, expected a boolean`);
  return v;
}

export class SupervisorRpc {
  private readonly endpoint: Endpoint;
  private readonly auth: string | null;

  constructor(private readonly opts: SupervisorRpcOptions) {
    this.endpoint = endpointOf(opts.url);
    this.auth =
      opts.username === null
        ? null
        : `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`, 'utf8').toString('base64')}`;
  }

  /** One call; resolves to the decoded result, rejects with XmlRpcFault or XmlRpcTransportError. */
  async call(method: string, params: readonly XmlRpcParam[] = []): Promise<XmlRpcValue> {
    const body = await this.post(encodeCall(method, params), method);
    return decodeResponse(body);
  }

  async getAllProcessInfo(): Promise<ProcessInfo[]> {
    const v = await this.call('supervisor.getAllProcessInfo');
    if (!Array.isArray(v)) throw new XmlRpcTransportError('getAllProcessInfo did not return an array');
    return v.map(toProcessInfo);
  }

  async getProcessInfo(namespec: string): Promise<ProcessInfo> {
    return toProcessInfo(await this.call('supervisor.getProcessInfo', [namespec]));
  }

  /** With wait (supervisord's default), returns once RUNNING, i.e. after startsecs. */
  async startProcess(namespec: string, wait = true): Promise<boolean> {
    return expectBoolean('startProcess', await this.call('supervisor.startProcess', [namespec, wait]));
  }

  async stopProcess(namespec: string, wait = true): Promise<boolean> {
    return expectBoolean('stopProcess', await this.call('supervisor.stopProcess', [namespec, wait]));
  }

  private post(xml: string, method: string): Promise<string> {
    const where = `supervisord ${this.opts.url}`;
    const payload = Buffer.from(xml, 'utf8');
    const headers: Record<string, string | number> = {
      'Content-Type': 'text/xml',
      'Content-Length': payload.length,
      // One connection per call, closed by the server after its answer: we can read to EOF.
      Connection: 'close',
    };
    if (this.auth !== null) headers['Authorization'] = this.auth;
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | null, text?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== null) {
          req.destroy();
          reject(err);
        } else resolve(text ?? '');
      };
      const req = request(
        { ...this.endpoint, method: 'POST', path: '/RPC2', headers, agent: false },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => finish(new XmlRpcTransportError(`${where}: ${method}: ${e.message}`)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 200) {
              finish(null, Buffer.concat(chunks).toString('utf8'));
              return;
            }
            const hint =
              status === 401
                ? ' (supervisord does not pass credentials to its listeners: set SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD in the listener\'s environment=)'
                : '';
            finish(new XmlRpcTransportError(`${where}: ${method}: HTTP ${status} ${res.statusMessage ?? ''}${hint}`));
          });
        },
      );
      // supervisord counts Content-Length in characters for non-ASCII bodies of waiting calls: the body
      // is cut, and the bytes left over fail to parse as a next response.
      req.on('error', (e: NodeJS.ErrnoException) => {
        const hint = e.code?.startsWith('HPE_') === true ? ' (Content-Length miscounted for a non-ASCII name?)' : '';
        finish(new XmlRpcTransportError(`${where}: ${method}: ${e.message}${hint}`));
      });
      const timer = setTimeout(
        () => finish(new XmlRpcTransportError(`${where}: ${method}: no answer within ${this.opts.timeoutMs} ms`)),
        this.opts.timeoutMs,
      );
      req.end(payload);
    });
  }
}
