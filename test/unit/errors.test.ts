import { describe, expect, it } from 'vitest';
import { quote } from '../../src/errors.js';

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
