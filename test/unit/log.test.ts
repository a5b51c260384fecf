import { describe, expect, it } from 'vitest';
import { createLogger, formatLine, stderrLines } from '../../src/log.js';
import { errno, RecordingStream as Recording } from '../support/writes.js';

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
    it('writes each line to the fd at once', () => {
      const calls: Array<[number, string]> = [];
      const write = stderrLines({ fd: 9, writeSync: (fd, text) => (calls.push([fd, text]), Buffer.byteLength(text)) });
      write('a process="café:café"\n');
      expect(calls).toEqual([[9, 'a process="café:café"\n']]);
      write('b\n');
      expect(calls).toEqual([
        [9, 'a process="café:café"\n'],
        [9, 'b\n'],
      ]);
    });

    it('goes on through the fallback stream, in order, once the fd would block', async () => {
      const fd: string[] = [];
      const stream = new Recording();
      let full = false;
      const write = stderrLines({
        writeSync: (_fd, text) => {
          if (full) throw errno('EAGAIN');
          fd.push(text);
          return Buffer.byteLength(text);
        },
        fallback: () => stream,
      });
      write('a\n');
      full = true;
      write('b\n');
      full = false;
      // Stays on the stream: a line written to the fd now could overtake one still queued there.
      write('c\n');
      await new Promise((r) => setImmediate(r));
      expect(fd).toEqual(['a\n']);
      expect(stream.writes).toEqual(['b\n', 'c\n']);
    });

    it('sends the rest of a partly written line through the fallback, cut at a byte, not a character', async () => {
      const stream = new Recording();
      // 'café' is 5 bytes: 3 written leaves the 2 bytes of é.
      const write = stderrLines({ writeSync: () => 3, fallback: () => stream });
      write('café\n');
      await new Promise((r) => setImmediate(r));
      expect(stream.writes.join('')).toBe('é\n');
    });

    it('loses the line, without throwing, when stderr fails otherwise (supervisord gone: EPIPE)', () => {
      const write = stderrLines({
        writeSync: () => {
          throw errno('EPIPE');
        },
        fallback: () => expect.fail('EPIPE must not fall back'),
      });
      expect(() => write('a\n')).not.toThrow();
    });
  });
});
