import { describe, expect, it } from 'vitest';
import { ConfigError, HaproxyReplyError, quote, UsageError } from '../../src/errors.js';

describe('quote', () => {
  it('escapes what would break a log line', () => {
    expect(quote('a\nb')).toBe('"a\\nb"');
    expect(quote('plain')).toBe('"plain"');
  });

  it('cuts after max characters, whole code points, with an ellipsis', () => {
    expect(quote('x'.repeat(100), 10)).toBe(`"${'x'.repeat(10)}"…`);
    expect(quote('x'.repeat(80))).toBe(`"${'x'.repeat(80)}"`);
    expect(quote('😀'.repeat(3), 2)).toBe('"😀😀"…');
  });
});

describe('AppError', () => {
  it('is named after its class, and keeps its stable code', () => {
    expect([new UsageError('x'), new HaproxyReplyError('x'), new ConfigError('f', null, null, 'x')].map((e) => [e.name, e.code])).toEqual([
      ['UsageError', 'USAGE'],
      ['HaproxyReplyError', 'HAPROXY_REPLY'],
      ['ConfigError', 'CONFIG'],
    ]);
  });
});
