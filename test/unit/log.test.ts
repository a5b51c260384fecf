// Log lines: key=value, one per fact; and stream writes in order, flushed() waiting for the operating system,
// a failing stream that never throws.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatLine, streamLines } from '../../src/log.js';

describe('log lines', () => {
  it('one line per fact, key=value, quoted only when needed', () => {
    expect(formatLine(new Date(0), 'info', 'server state set', { socket: '/run/a.sock', server: 'plone/i1', n: 3, note: 'two words', skip: undefined })).toBe(
      'ts=1970-01-01T00:00:00.000Z level=info msg="server state set" socket=/run/a.sock server=plone/i1 n=3 note="two words"\n',
    );
  });

  it('drops lines below the level', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), 'warn', () => new Date(0));
    log.info('no');
    log.warn('yes');
    expect(lines).toEqual(['ts=1970-01-01T00:00:00.000Z level=warn msg=yes\n']);
  });
});

/** A stream that holds each write until release() is called, as a full pipe does. */
class HeldStream extends Writable {
  readonly written: string[] = [];
  private held: Array<() => void> = [];
  constructor(private readonly failWith: Error | null = null) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.held.push(() => {
      this.written.push(chunk.toString('utf8'));
      done(this.failWith);
    });
  }
  release(): void {
    for (let next = this.held.shift(); next !== undefined; next = this.held.shift()) next();
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('streamLines', () => {
  it('writes in order, and flushed() resolves only once every write has been taken', async () => {
    const stream = new HeldStream();
    const lines = streamLines(stream);
    lines.write('a process="café:café"\n');
    lines.write('b\n');
    let flushed = false;
    const done = lines.flushed().then(() => {
      flushed = true;
    });
    await tick();
    expect(flushed).toBe(false);
    stream.release();
    await tick();
    stream.release();
    await done;
    expect(stream.written).toEqual(['a process="café:café"\n', 'b\n']);
  });

  it('resolves flushed() at once when nothing was written', async () => {
    await expect(streamLines(new HeldStream()).flushed()).resolves.toBeUndefined();
  });

  it('on a failing stream (the reader gone: EPIPE): never throws, reports the error, and still flushes', async () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const stream = new HeldStream(epipe);
    const errors: unknown[] = [];
    const lines = streamLines(stream, (err) => errors.push(err));
    lines.write('a\n');
    stream.release();
    await tick();
    // The stream is destroyed now: later lines are lost, without an 'error' that would crash the process.
    expect(() => lines.write('b\n')).not.toThrow();
    await lines.flushed();
    expect(errors).toEqual([epipe]);
  });
});
