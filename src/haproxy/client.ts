// The one module that opens HAProxy stats-socket connections: one command per connection, bounded in time and number.

import { connect, type Socket } from 'node:net';
import { errorText, HaproxyCommandError, HaproxyConnectError, HaproxyReplyError, quote } from '../errors.js';
import { Semaphore } from '../semaphore.js';
import type { RuntimeApi, ServersStateDump } from './api.js';
import * as commands from './commands.js';
import {
  isSuccess,
  parseInfo,
  parseServersState,
  parseShowStat,
  replyError,
  readChainedReplies,
  type ServerStateRow,
  type StatRow,
} from './replies.js';
import { serverKey, type AdminState, type ServerRef, type SocketAddress } from './types.js';

interface HaproxyClientOptions {
  /** Bound on one command: connect, send and the whole reply. */
  readonly timeoutMs: number;
  /** Connections this client may hold open at once (default 2); HAProxy serves 10 in all. */
  readonly maxConnections?: number;
}

const DEFAULT_MAX_CONNECTIONS = 2;

const CONNECT_HINTS: Record<string, string> = {
  ENOENT: 'no such socket file; is haproxy running with this stats socket?',
  ECONNREFUSED: 'connection refused; is haproxy running?',
  EACCES: "permission denied; check the socket's mode and owner",
  EPERM: "permission denied; check the socket's mode and owner",
  ENOTSOCK: 'not a socket',
};

export class HaproxyClient implements RuntimeApi {
  readonly label: string;
  private readonly timeoutMs: number;
  private readonly slots: Semaphore;

  constructor(
    private readonly address: SocketAddress,
    opts: HaproxyClientOptions,
  ) {
    if (!(opts.timeoutMs > 0) || !Number.isFinite(opts.timeoutMs)) {
      throw new RangeError(`timeoutMs must be a positive number, got ${opts.timeoutMs}`);
    }
    this.label = address.label;
    this.timeoutMs = opts.timeoutMs;
    this.slots = new Semaphore(opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  }

  /**
   * Sends one command line on a connection of its own and returns the raw reply (HAProxy closes the
   * connection when it is done). Waiting for a free connection slot is not counted in the timeout.
   */
  async send(command: string): Promise<string> {
    try {
      commands.checkLine(command);
    } catch (err) {
      throw this.notSent(quote(command), err);
    }
    return this.slots.use(() => this.exchange(command));
  }

  /** Only sends; HAProxy may accept and do nothing (tracked server), so callers read the state back. */
  async setServerState(ref: ServerRef, state: AdminState): Promise<void> {
    let command: string;
    try {
      command = commands.setServerState(ref, state);
    } catch (err) {
      throw this.notSent(quote(`set server ${serverKey(ref)} state ${state}`), err);
    }
    const reply = await this.send(command);
    this.checkComplete(command, reply);
    if (!isSuccess(reply)) throw new HaproxyCommandError(this.label, command, reply);
  }

  /**
   * Several `set server` at once, chained with `;` on as few lines (connections) as fit, the last line
   * ending with `show servers state` of every backend: a pass of the applier costs one connection, not two
   * per decision, and its read-back is also what the server state file holds. Returns per change null
   * (accepted) or HAProxy's refusal text (`not sent: …` for a change that could not be built).
   * Throws only when HAProxy could not be reached or answered short; the changes are then to be re-sent.
   */
  async setServerStates(
    changes: readonly { ref: ServerRef; state: AdminState }[],
  ): Promise<{ answers: (string | null)[]; dump: ServersStateDump }> {
    const answers: (string | null)[] = changes.map(() => null);
    const sendable: { index: number; line: string }[] = [];
    changes.forEach(({ ref, state }, index) => {
      try {
        sendable.push({ index, line: commands.setServerState(ref, state) });
      } catch (err) {
        answers[index] = `not sent: ${errorText(err)}`;
      }
    });
    if (sendable.length === 0) return { answers, dump: await this.dumpServersState() };
    const readBack = commands.showServersState();
    const chunks = commands.chainLines(
      sendable.map((c) => c.line),
      commands.MAX_LINE_BYTES - Buffer.byteLength(readBack) - 1,
    );
    let at = 0;
    let dump: ServersStateDump = { text: '', rows: [] };
    for (const [n, chunk] of chunks.entries()) {
      const last = n === chunks.length - 1;
      const line = [...chunk, ...(last ? [readBack] : [])].join(';');
      const reply = await this.send(line);
      this.checkComplete(line, reply);
      try {
        const { answers: got, rest } = readChainedReplies(reply, chunk.length);
        got.forEach((answer, k) => {
          answers[(sendable[at + k] as { index: number }).index] = answer;
        });
        if (last) {
          if (replyError(rest) !== null) throw new HaproxyCommandError(this.label, readBack, rest);
          dump = { text: rest, rows: parseServersState(rest) };
        }
      } catch (err) {
        if (err instanceof HaproxyReplyError) {
          throw new HaproxyReplyError(`haproxy ${this.label}: '${quote(line)}': ${err.message}`);
        }
        throw err;
      }
      at += chunk.length;
    }
    return { answers, dump };
  }

  /** Every backend's `show servers state`, parsed and as text. */
  async dumpServersState(): Promise<ServersStateDump> {
    let text = '';
    const rows = await this.query('show servers state', () => commands.showServersState(), (reply) => {
      text = reply;
      return parseServersState(reply);
    });
    return { text, rows };
  }

  async showServersState(backend?: string): Promise<ServerStateRow[]> {
    const intended = `show servers state ${backend ?? ''}`;
    return this.query(intended, () => commands.showServersState(backend), parseServersState);
  }

  async showInfo(): Promise<Record<string, string>> {
    return this.query('show info', () => commands.showInfo(), parseInfo);
  }

  /** Server rows of `show stat`, every backend's. */
  async showStat(): Promise<StatRow[]> {
    return this.query('show stat', () => commands.showStat(), parseShowStat);
  }

  private async query<T>(intended: string, build: () => string, parse: (reply: string) => T): Promise<T> {
    let command: string;
    try {
      command = build();
    } catch (err) {
      throw this.notSent(quote(intended.trim()), err);
    }
    const reply = await this.send(command);
    this.checkComplete(command, reply);
    if (replyError(reply) !== null) throw new HaproxyCommandError(this.label, command, reply);
    try {
      return parse(reply);
    } catch (err) {
      if (err instanceof HaproxyReplyError) {
        throw new HaproxyReplyError(`haproxy ${this.label}: '${command}': ${err.message}`);
      }
      throw err;
    }
  }

  /** Every complete answer ends in a newline; nothing at all means HAProxy closed without answering. */
  private checkComplete(command: string, reply: string): void {
    if (reply === '') {
      throw new HaproxyReplyError(`haproxy ${this.label}: '${command}': empty reply (closed without an answer)`);
    }
  }

  /** A command we refused to build or send (bad name, newline…): retrying it would not help. */
  private notSent(command: string, err: unknown): HaproxyCommandError {
    const reason = errorText(err);
    return new HaproxyCommandError(this.label, command, `not sent: ${reason}`);
  }

  private exchange(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket: Socket =
        this.address.kind === 'unix'
          ? connect({ path: this.address.path })
          : connect({ host: this.address.host, port: this.address.port });
      const chunks: Buffer[] = [];
      let connected = false;
      let ended = false;
      let failure: Error | null = null;
      // Excess CLI connections are accepted by the kernel and then hang without a word (stats maxconn),
      // so one timer covers connect and reply, and the socket is destroyed when it fires.
      const timer = setTimeout(() => {
        failure ??= new HaproxyConnectError(
          this.label,
          `no reply to '${command}' within ${this.timeoutMs} ms`,
          true,
        );
        socket.destroy();
      }, this.timeoutMs);
      socket.on('connect', () => {
        connected = true;
      });
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => {
        ended = true;
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // Once HAProxy has closed its side the reply is whole; a late EPIPE/ECONNRESET changes nothing.
        if (ended) return;
        failure ??= connected
          ? new HaproxyConnectError(this.label, `'${command}': connection failed: ${err.message}`)
          : new HaproxyConnectError(this.label, `cannot connect: ${connectReason(err)}`);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (failure === null && !ended) {
          failure = new HaproxyConnectError(this.label, `'${command}': connection closed before the reply ended`);
        }
        if (failure !== null) reject(failure);
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      // HAProxy runs a line only once it sees its "\n"; the half-close then lets it close when done.
      socket.end(`${command}\n`);
    });
  }
}

function connectReason(err: NodeJS.ErrnoException): string {
  const hint = err.code === undefined ? undefined : CONNECT_HINTS[err.code];
  return hint === undefined ? err.message : `${err.code}: ${hint}`;
}
