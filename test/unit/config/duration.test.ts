import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from '../../../src/config/parse.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['0.5m', 30_000],
    ['2 s', 2000],
    ['250 ms', 250],
    ['  3s  ', 3000],
    ['0s', 0],
    ['1.0004s', 1000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5', '', 's', '-1s', '1h', '2S', '1.s', '.5s', '2 seconds', '1e3ms', '1,5s', 'ms5', '5s5'])(
    'rejects %j with the expected form',
    (text) => {
      expect(() => parseDuration(text)).toThrow('expected a duration like 500ms, 2s or 5m');
    },
  );

  it('rejects durations a Node timer cannot hold (they would fire after 1 ms)', () => {
    expect(parseDuration(`${MAX_DURATION_MS}ms`)).toBe(MAX_DURATION_MS);
    expect(() => parseDuration(`${MAX_DURATION_MS + 1}ms`)).toThrow('too long');
    expect(() => parseDuration('100000m')).toThrow('too long');
  });

  it('throws a plain Error', () => {
    let caught: unknown;
    try {
      parseDuration('5');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).constructor).toBe(Error);
  });
});
