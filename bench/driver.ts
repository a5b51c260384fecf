// Plays supervisord towards a spawned listener: one event in flight, each acknowledgement timed, stdout checked.

import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { spawnOnOsPipes } from '../test/support/os-pipes.js';

const READY = Buffer.from('READY\n');
// What supervisord needs back before it sends the next event: the result, then READY (one write or two).
const ACK_THEN_READY = Buffer.from('RESULT 2\nOKREADY\n');

interface Pending {
  readonly expect: Buffer;
  pos: number;
  readonly t0: bigint;
  readonly resolve: (ms: number) => void;
  readonly reject: (err: Error) => void;
}

export interface DriverOptions {
  /** The listener's stderr goes to this file (it logs every mapped event). */
  readonly stderrPath: string;
  readonly env?: Readonly<Record<string, string>>;
  /** How long the first READY may take. */
  readonly readyTimeoutMs?: number;
}

/**
 * Writes frames to the listener's stdin exactly as supervisord does — the next one only after `RESULT 2\nOK`
 * and `READY\n` — and rejects on any other byte on its stdout (supervisord would stop sending for good).
 */
export class ProtocolDriver {
  private static started = 0;
  private pending: Pending | null = null;
  private failure: Error | null = null;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly stdin: Writable,
    stdout: Readable,
    private readonly stderrPath: string,
  ) {
    stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    stdin.on('error', (e) => this.fail(new Error(`listener stdin: ${e.message}`)));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.fail(new Error(`listener exited (${signal ?? `code ${code}`})`));
        resolve();
      });
    });
  }

  /**
   * Spawns `cmd args` with stdin and stdout on OS pipes, as supervisord does (os.pipe(); Node's own 'pipe'
   * stdio would be socketpairs), stderr to the file, and waits for its first READY.
   */
  static async start(cmd: string, args: readonly string[], opts: DriverOptions): Promise<ProtocolDriver> {
    const { child, toChild, fromChild } = await spawnOnOsPipes(cmd, args, {
      dir: dirname(opts.stderrPath),
      tag: `p${process.pid}-${ProtocolDriver.started++}`,
      stderrPath: opts.stderrPath,
      env: { ...process.env, ...opts.env },
    });
    const driver = new ProtocolDriver(child, toChild, fromChild, opts.stderrPath);
    const timeoutMs = opts.readyTimeoutMs ?? 10_000;
    const timer = setTimeout(() => driver.fail(new Error(`no READY within ${timeoutMs} ms`)), timeoutMs);
    try {
      await driver.expect(READY);
    } finally {
      clearTimeout(timer);
    }
    return driver;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Sends one frame; resolves with the ms from the write to the end of `RESULT 2\nOK` + `READY\n`. */
  send(frame: Buffer): Promise<number> {
    const acked = this.expect(ACK_THEN_READY);
    this.stdin.write(frame);
    return acked;
  }

  /** Closes stdin (supervisord went away) and waits for the exit; SIGTERM, then SIGKILL if it lingers. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exit !== null) return;
    this.stdin.end();
    if (await this.exitedWithin(graceMs)) return;
    this.child.kill('SIGTERM');
    if (await this.exitedWithin(graceMs)) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The error that stopped the conversation, with the tail of the listener's stderr. */
  async explain(err: Error): Promise<Error> {
    let tail = '';
    try {
      tail = (await readFile(this.stderrPath, 'utf8')).trimEnd().split('\n').slice(-10).join('\n');
    } catch {
      // no log yet
    }
    return new Error(`${err.message}\n${this.stderrPath} (last lines):\n${tail}`);
  }

  private exitedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private expect(bytes: Buffer): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.pending !== null) return Promise.reject(new Error('one event in flight at a time'));
    return new Promise<number>((resolve, reject) => {
      this.pending = { expect: bytes, pos: 0, t0: process.hrtime.bigint(), resolve, reject };
    });
  }

  private onData(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const p = this.pending;
      if (p === null || chunk[i] !== p.expect[p.pos]) {
        const got = JSON.stringify(chunk.subarray(i, i + 80).toString('utf8'));
        const wanted = p === null ? 'nothing' : JSON.stringify(p.expect.subarray(p.pos).toString('utf8'));
        this.fail(new Error(`listener wrote ${got} where supervisord expects ${wanted}`));
        return;
      }
      p.pos++;
      if (p.pos === p.expect.length) {
        this.pending = null;
        p.resolve(Number(process.hrtime.bigint() - p.t0) / 1e6);
      }
    }
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }
}

export interface DriveResult {
  readonly latenciesMs: Float64Array;
  readonly elapsedMs: number;
}

/** Sends `n` events one at a time, as supervisord does, timing each acknowledgement; `next(i)` builds event i. */
export async function drive(driver: ProtocolDriver, n: number, next: (i: number) => Buffer, offset = 0): Promise<DriveResult> {
  const latenciesMs = new Float64Array(n);
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) latenciesMs[i] = await driver.send(next(offset + i));
  } catch (e) {
    throw await driver.explain(e as Error);
  }
  return { latenciesMs, elapsedMs: performance.now() - t0 };
}
