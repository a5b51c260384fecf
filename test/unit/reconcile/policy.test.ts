import { describe, expect, it } from 'vitest';
import { immediateState } from '../../../src/reconcile/policy.js';

// POLICY itself is a typed Record<ProcessState, Action>: the compiler holds it to every state; restating its
// rows here would test the table against a copy of itself.
describe('immediateState', () => {
  it('holds maint while warming, and uses on_stopping only for STOPPING', () => {
    expect(immediateState('warm_then_ready', 'drain')).toBe('maint');
    expect(immediateState('maint', 'drain')).toBe('maint');
    expect(immediateState('on_stopping', 'drain')).toBe('drain');
    expect(immediateState('on_stopping', 'maint')).toBe('maint');
  });
});
