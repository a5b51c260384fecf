import { describe, expect, it } from 'vitest';
import {
  chainLines,
  checkLine,
  isValidName,
  MAX_LINE_BYTES,
  MAX_NAME_LENGTH,
  NAME_PATTERN,
  setServerState,
  showInfo,
  showServersState,
  showStat,
} from '../../../src/haproxy/commands.js';
import type { AdminState } from '../../../src/haproxy/types.js';

// Each of these, put into a name, would run a second command or break the line (reference §1).
const HOSTILE = [
  'be;set server x/y state ready',
  'be;',
  'be\nset server x/y state ready',
  'be\r',
  'be s2',
  'be/s2',
  'be\\;x',
  '',
  ' ',
  'café',
  'be\u0000',
  'be\t',
  '#3',
  'x'.repeat(MAX_NAME_LENGTH + 1),
];

describe('isValidName', () => {
  it.each(['be', 's1', 'plone0101', 'a.b', 'a:b', 'a-b', 'a_b', 'A9', 'x'.repeat(MAX_NAME_LENGTH)])(
    'accepts %j',
    (name) => {
      expect(isValidName(name)).toBe(true);
      expect(NAME_PATTERN.test(name)).toBe(true);
    },
  );

  it.each(HOSTILE)('refuses %j', (name) => {
    expect(isValidName(name)).toBe(false);
  });
});

describe('setServerState', () => {
  it.each(['maint', 'drain', 'ready'] as const)('builds the %s line without a newline', (state) => {
    expect(setServerState({ backend: 'be', server: 's2' }, state)).toBe(`set server be/s2 state ${state}`);
  });

  it.each(HOSTILE)('refuses the backend %j', (backend) => {
    expect(() => setServerState({ backend, server: 's2' }, 'maint')).toThrow(
      /backend name .* is not a valid HAProxy name/,
    );
  });

  it.each(HOSTILE)('refuses the server %j', (server) => {
    expect(() => setServerState({ backend: 'be', server }, 'maint')).toThrow(
      /server name .* is not a valid HAProxy name/,
    );
  });

  it.each(['MAINT', 'bogus', 'ready;show info', ''])('refuses the state %j', (state) => {
    expect(() => setServerState({ backend: 'be', server: 's2' }, state as AdminState)).toThrow(/not an admin state/);
  });

  it('shows a hostile name escaped in the message, never raw', () => {
    expect(() => setServerState({ backend: 'be\nshow info', server: 's' }, 'maint')).toThrow(
      'backend name "be\\nshow info" is not a valid HAProxy name',
    );
  });
});

describe('show commands', () => {
  it('builds show servers state for all backends or one', () => {
    expect(showServersState()).toBe('show servers state');
    expect(showServersState('be')).toBe('show servers state be');
  });

  it('builds show stat', () => {
    expect(showStat()).toBe('show stat');
  });

  it('builds show info', () => {
    expect(showInfo()).toBe('show info');
  });

  it.each(HOSTILE)('refuses the backend %j', (backend) => {
    expect(() => showServersState(backend)).toThrow(/not a valid HAProxy name/);
  });

  it('never builds a line checkLine would refuse, even for the longest names', () => {
    const long = 'x'.repeat(MAX_NAME_LENGTH);
    for (const line of [
      setServerState({ backend: long, server: long }, 'drain'),
      showServersState(long),
      showInfo(),
    ]) {
      expect(checkLine(line)).toBe(line);
    }
  });
});

describe('checkLine', () => {
  it('passes an ordinary line through', () => {
    expect(checkLine('show servers conn be')).toBe('show servers conn be');
  });

  it.each([
    ['a newline', 'show info\nset server be/s2 state maint', /control character/],
    ['a carriage return', 'show info\r', /control character/],
    ['a NUL', 'show\u0000info', /control character/],
    ['an empty line', '', /empty command line/],
    ['a blank line', '   ', /empty command line/],
  ])('refuses %s', (_what, line, message) => {
    expect(() => checkLine(line)).toThrow(message);
  });

  it(`refuses lines over ${MAX_LINE_BYTES} bytes, counting bytes not characters`, () => {
    expect(checkLine('x'.repeat(MAX_LINE_BYTES))).toHaveLength(MAX_LINE_BYTES);
    expect(() => checkLine('x'.repeat(MAX_LINE_BYTES + 1))).toThrow(`${MAX_LINE_BYTES + 1} bytes`);
    // 600 two-byte characters: 600 chars, 1200 bytes.
    expect(() => checkLine('é'.repeat(600))).toThrow('1200 bytes');
    // HAProxy wedged a CLI slot for good on lines near 16 KB.
    expect(() => checkLine('x'.repeat(16_300))).toThrow(/bytes, more than/);
  });
});

describe('chainLines', () => {
  it('keeps order and fits each chained line within the bound', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `set server be/s${i} state maint`);
    const chunks = chainLines(lines, 100);
    expect(chunks.flat()).toEqual(lines);
    for (const c of chunks) expect(Buffer.byteLength(c.join(';'))).toBeLessThanOrEqual(100);
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('one line per chunk when a line alone is at the bound; nothing for nothing', () => {
    expect(chainLines(['a'.repeat(10), 'b'.repeat(10)], 10)).toEqual([['a'.repeat(10)], ['b'.repeat(10)]]);
    expect(chainLines([])).toEqual([]);
  });
});
