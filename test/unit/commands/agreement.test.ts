import { describe, expect, it } from 'vitest';
import { agreement, inService } from '../../../src/commands/agreement.js';
import { statusWord } from '../../../src/haproxy/replies.js';
import type { ProcessState } from '../../../src/supervisor/types.js';

describe('statusWord / inService', () => {
  it.each([
    ['UP', 'UP', true],
    ['UP 1/2', 'UP', true],
    ['no check', 'no check', true],
    ['DOWN', 'DOWN', false],
    ['DOWN 1/2', 'DOWN', false],
    ['DRAIN (agent)', 'DRAIN', false],
    ['MAINT (via be/s1)', 'MAINT', false],
    ['NOLB', 'NOLB', false],
    ['', null, false],
  ])('%j → %s, in service %s', (status, word, up) => {
    expect(statusWord(status)).toBe(word);
    expect(inService(status)).toBe(up);
  });
});

describe('agreement', () => {
  const cases: [ProcessState | null, string | null, string][] = [
    ['RUNNING', 'UP', 'yes'],
    ['RUNNING', 'no check', 'yes'],
    ['RUNNING', 'MAINT', 'no'],
    ['RUNNING', 'DOWN', 'no'],
    ['RUNNING', 'DRAIN', 'no'],
    ['STOPPED', 'MAINT', 'yes'],
    ['STOPPED', 'UP', 'no'],
    ['STOPPING', 'DRAIN', 'yes'],
    ['STOPPING', 'MAINT', 'yes'],
    ['STARTING', 'MAINT', 'yes'],
    ['FATAL', 'no check', 'no'],
    ['BACKOFF', 'DRAIN', 'no'],
    [null, 'UP', 'unknown'],
    ['RUNNING', null, 'unknown'],
  ];
  it.each(cases)('%s with %s → %s', (state, status, agrees) => {
    const v = agreement(state, status);
    expect(v.agrees).toBe(agrees);
    expect(v.note === '').toBe(agrees === 'yes');
  });
});
