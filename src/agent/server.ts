// The agent-check responder's sockets: one TCP server per `[agent] listen` address, one line in, one line out.

import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import split2 from 'split2';
import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import type { AdminState, ServerRef } from '../haproxy/types.js';
import type { Logger } from '../log.js';
import type { AgentAddress } from './address.js';
import { MAX_LINE, NO_CHANGE, parseRequest, reply, type Refusal } from './answers.js';

export interface AgentLimits {
  /** Longest request line, in characters; a longer one closes the connection unanswered. */
  readonly maxLine: number;
  /** From accept to close: a peer that sends no line, or does not read its answer, is cut off then. */
  readonly connectionMs: number;
  /** Open connections per address; more are closed on accept (Node's server.maxConnections). */
  readonly maxConnections: number;
  /** Refusal log lines allowed per minute, all causes together. */
  readonly logPerMinute: number;
}

/**
 * HAProxy connects, sends agent-send at once and reads one line: 2 s is far beyond what it needs and keeps a
 * peer that sends nothing from holding one of the connections for long. What a flood can make the agent
 * hold: 256 connections, each with at most 512 characters of line, plus the one read chunk (64 KiB at most)
 * that split2 looks at before it finds the line too long and the connection is cut.
 */
const DEFAULT_LIMITS: AgentLimits = { maxLine: MAX_LINE, connectionMs: 2000, maxConnections: 256, logPerMinute: 10 };

interface AgentServerOptions {
  readonly addresses: readonly AgentAddress[];
  /** The current answer for a server, null when there is none (see AgentAnswers). */
  readonly lookup: (ref: ServerRef) => AdminState | null;
  readonly clock: Clock;
  readonly log: Logger;
  readonly limits?: Partial<AgentLimits>;
}

/** Counters, for the bench and for tests. */
interface AgentCounts {
  answered: number;
  refused: number;
}

export class AgentServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Duplex>();
  private readonly limits: AgentLimits;
  private readonly logLimit: LogLimit;
  readonly counts: AgentCounts = { answered: 0, refused: 0 };

  constructor(private readonly opts: AgentServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.logLimit = new LogLimit(opts.clock, this.limits.logPerMinute, 60_000);
  }

  /** Binds every address; rejects (having closed those already bound) when one cannot be bound. */
  async start(): Promise<void> {
    try {
      for (const address of this.opts.addresses) this.servers.push(await this.bind(address));
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.opts.log.info('agent listening', { listen: this.opts.addresses.map((a) => a.label).join(',') });
  }

  /** Stops accepting and cuts every open connection. */
  async stop(): Promise<void> {
    const closing = this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closing);
  }

  private bind(address: AgentAddress): Promise<Server> {
    // allowHalfOpen: a peer may send its line and shut its side at once; the answer still goes back.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.setNoDelay(true);
      this.handle(socket, socket.remoteAddress);
    });
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string }) => this.refused('too-many-connections', data?.remoteAddress, null));
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`agent: cannot listen on ${address.label}: ${errorText(err)}`)));
      // ipv6Only: [::] beside 0.0.0.0 on the same port would otherwise clash (Linux binds :: dual-stack).
      server.listen({ host: address.host, port: address.port, ipv6Only: address.host.includes(':') }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.opts.log.error('agent socket error', { listen: address.label, error: errorText(err) }));
        resolve(server);
      });
    });
  }

  /** One connection from accept to close (public for tests, which feed it a stream in chunks of every size). */
  handle(socket: Duplex, peer: string | undefined): void {
    this.sockets.add(socket);
    let done = false;
    const lines = split2(/\n/, { maxLength: this.limits.maxLine });
    const finish = (text: string | null): void => {
      if (done) return;
      done = true;
      socket.unpipe(lines);
      lines.destroy();
      if (text === null) socket.destroy();
      else socket.end(text);
    };
    const cancel = this.opts.clock.timer(this.limits.connectionMs, () => {
      if (!done) this.refused('timeout', peer, null);
      finish(null);
      socket.destroy();
    });
    socket.on('close', () => {
      cancel();
      this.sockets.delete(socket);
    });
    // A peer that resets is its own business; the socket closes either way.
    socket.on('error', () => undefined);
    lines.on('data', (line: string) => {
      if (done) return;
      const r = reply(parseRequest(line), this.opts.lookup);
      if (r.refusal === null) this.counts.answered += 1;
      else this.refused(r.refusal, peer, r.refusal === 'unknown' ? line.trim() : null);
      finish(r.text);
    });
    lines.on('error', () => {
      if (done) return;
      this.refused('too-long', peer, null);
      finish(null);
    });
    // The peer shut its side without a line ending: split2 gave what came before as the line (above), or nothing.
    lines.on('end', () => {
      if (done) return;
      this.refused('empty', peer, null);
      finish(NO_CHANGE);
    });
    socket.pipe(lines);
  }

  private refused(why: Refusal, peer: string | undefined, request: string | null): void {
    this.counts.refused += 1;
    const dropped = this.logLimit.take();
    if (dropped === null) return;
    this.opts.log.warn('agent request got no decision', {
      why,
      request: request ?? undefined,
      peer: peer ?? undefined,
      suppressed: dropped > 0 ? dropped : undefined,
    });
  }
}

/** A budget of log lines per time window, so a misconfigured or hostile agent client cannot flood stderr. */
export class LogLimit {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /**
   * null when the line must be dropped; otherwise how many were dropped since the last one allowed, so the
   * line that gets through can say so.
   */
  take(): number | null {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.suppressed += 1;
      return null;
    }
    this.used += 1;
    const dropped = this.suppressed;
    this.suppressed = 0;
    return dropped;
  }
}
