// stdout as the protocol's sink: synchronous writes, a stream fallback that keeps token order, errors reported.

import { describe, expect, it } from 'vitest';
import { stdoutSink } from '../../../src/supervisor/stdio.js';
import { errno, RecordingStream as Recording } from '../../support/writes.js';

describe('stdoutSink', () => {
  it('writes each token to the fd at once, and is drained straight away', async () => {
    const calls: Array<[number, string]> = [];
    const sink = stdoutSink({ fd: 7, writeSync: (fd, text) => (calls.push([fd, text]), text.length) });
    sink.open(() => expect.fail('no error expected'));
    sink.write('READY\n');
    sink.write('RESULT 2\nOKREADY\n');
    expect(calls).toEqual([
      [7, 'READY\n'],
      [7, 'RESULT 2\nOKREADY\n'],
    ]);
    await expect(sink.drained()).resolves.toBeUndefined();
  });

  it('goes on through the fallback stream, in order, once the fd would block', async () => {
    const fd: string[] = [];
    const stream = new Recording();
    let full = false;
    const sink = stdoutSink({
      writeSync: (_fd, text) => {
        if (full) throw errno('EAGAIN');
        fd.push(text);
        return text.length;
      },
      fallback: () => stream,
    });
    sink.open(() => expect.fail('no error expected'));
    sink.write('READY\n');
    full = true;
    sink.write('RESULT 2\nOKREADY\n');
    full = false;
    // Stays on the stream: a token written to the fd now could overtake one still queued there.
    sink.write('RESULT 2\nOKREADY\n');
    await sink.drained();
    expect(fd).toEqual(['READY\n']);
    expect(stream.writes).toEqual(['RESULT 2\nOKREADY\n', 'RESULT 2\nOKREADY\n']);
  });

  it('sends the rest of a partly written token through the fallback', async () => {
    const stream = new Recording();
    const sink = stdoutSink({ writeSync: () => 9, fallback: () => stream });
    sink.open(() => expect.fail('no error expected'));
    sink.write('RESULT 2\nOKREADY\n');
    await sink.drained();
    expect(stream.writes).toEqual(['OKREADY\n']);
  });

  it('reports any other failure (supervisord gone: EPIPE) to the handler given at open', () => {
    const errors: unknown[] = [];
    const sink = stdoutSink({
      writeSync: () => {
        throw errno('EPIPE');
      },
      fallback: () => expect.fail('EPIPE must not fall back'),
    });
    sink.open((err) => errors.push(err));
    sink.write('READY\n');
    expect(errors).toEqual([expect.objectContaining({ code: 'EPIPE' })]);
  });
});
