import { describe, expect, it } from 'vitest';
import { POLICY, immediateState } from '../../../src/reconcile/policy.js';
import { PROCESS_STATES } from '../../../src/supervisor/types.js';

describe('state policy table', () => {
  it.each([
    ['STOPPED', 'maint'],
    ['BACKOFF', 'maint'],
    ['EXITED', 'maint'],
    ['FATAL', 'maint'],
    ['UNKNOWN', 'maint'],
    ['STOPPING', 'on_stopping'],
    ['STARTING', 'warm_then_ready'],
    ['RUNNING', 'keep_warming'],
  ] as const)('%s → %s', (state, action) => {
    expect(POLICY[state]).toBe(action);
  });

  it('covers every supervisord state', () => {
    expect(Object.keys(POLICY).sort()).toEqual([...PROCESS_STATES].sort());
  });

  it('holds maint while warming, and uses on_stopping only for STOPPING', () => {
    expect(immediateState('warm_then_ready', 'drain')).toBe('maint');
    expect(immediateState('maint', 'drain')).toBe('maint');
    expect(immediateState('on_stopping', 'drain')).toBe('drain');
    expect(immediateState('on_stopping', 'maint')).toBe('maint');
  });
});
