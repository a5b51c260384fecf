import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../bench/args.js';

const known = ['rolling', 'chaos'];

describe('parseBenchArgs --seed', () => {
  it('takes --seed N and --seed=N; null when not given', () => {
    expect(parseBenchArgs(['chaos', '--seed', '42'], {}, known)).toEqual({
      kind: 'run',
      args: { names: ['chaos'], quick: false, keep: false, seed: 42 },
    });
    expect(parseBenchArgs(['--seed=4294967295', '--quick'], {}, known)).toMatchObject({ kind: 'run', args: { seed: 4294967295, quick: true } });
    expect(parseBenchArgs([], {}, known)).toMatchObject({ kind: 'run', args: { names: known, seed: null } });
  });

  it('refuses a seed that is missing, not an integer or too large', () => {
    for (const argv of [['--seed'], ['--seed', 'x'], ['--seed=-1'], ['--seed', '4294967296']]) {
      expect(parseBenchArgs(argv, {}, known).kind).toBe('error');
    }
  });
});
