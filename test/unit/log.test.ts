import { describe, expect, it } from 'vitest';
import { createLogger, formatLine } from '../../src/log.js';

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
