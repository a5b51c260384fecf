// Text to a stream in order, flushed() waiting for the operating system, and a failing stream that never throws.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { streamLines } from '../../src/lines.js';

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
