import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, formatLine, stderrLines } from '../../src/log.js';

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

  describe('stderrLines', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    const recorder = () => {
      const stream = new PassThrough();
      const writes: string[] = [];
      stream.on('data', (c: Buffer) => writes.push(c.toString()));
      return { write: stderrLines(stream, () => Date.now(), 2), writes };
    };

    it('writes the lines of one turn of the event loop together, at its end, after a quiet spell', () => {
      vi.useFakeTimers();
      const { write, writes } = recorder();
      write('a\n');
      write('b\n');
      write('c\n');
      expect(writes).toEqual([]);
      vi.advanceTimersToNextTimer();
      expect(writes).toEqual(['a\nb\nc\n']);
    });

    it('while lines keep coming, writes at most once per gathering period, in order', () => {
      vi.useFakeTimers();
      const { write, writes } = recorder();
      write('a\n');
      vi.advanceTimersToNextTimer();
      write('b\n');
      vi.advanceTimersByTime(1);
      write('c\n');
      expect(writes).toEqual(['a\n']);
      vi.advanceTimersByTime(1);
      expect(writes).toEqual(['a\n', 'b\nc\n']);
      // Quiet for longer than the period: the next line goes out at the end of its turn again.
      vi.advanceTimersByTime(10);
      write('d\n');
      vi.advanceTimersToNextTimer();
      expect(writes).toEqual(['a\n', 'b\nc\n', 'd\n']);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('flush() writes what is gathered at once, and the timer then finds nothing', () => {
      vi.useFakeTimers();
      const { write, writes } = recorder();
      write('a\n');
      vi.advanceTimersToNextTimer();
      write('b\n');
      write.flush();
      expect(writes).toEqual(['a\n', 'b\n']);
      vi.runAllTimers();
      expect(writes).toEqual(['a\n', 'b\n']);
    });
  });
});
