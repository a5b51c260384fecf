import { describe, expect, it } from 'vitest';
import { diffResync, type Known } from '../../../src/reconcile/resync.js';
import { processInfo } from './builders.js';
import type { ProcessState } from '../../../src/supervisor/types.js';

const info = processInfo;
const k = (state: ProcessState | null, pid: number | null, lastEventSeq = 0): Known => ({ servers: [{ backend: 'b', server: 's' }], state, pid, lastEventSeq });
const always = () => true;

describe('diffResync', () => {
  it('learns the pid of an unchanged state; transitions a changed one or another incarnation', () => {
    const known = new Map([
      ['a:a', k('RUNNING', null)],
      ['b:b', k('RUNNING', 10)],
      ['c:c', k('RUNNING', 10)],
    ]);
    const { changes } = diffResync(known, [info('a', 'RUNNING', 7), info('b', 'STOPPED'), info('c', 'RUNNING', 11)], 0, always);
    expect(changes).toEqual([
      { kind: 'pid', key: 'a:a', pid: 7 },
      { kind: 'transition', key: 'b:b', state: 'STOPPED', pid: null, known: 'RUNNING', knownPid: 10 },
      { kind: 'transition', key: 'c:c', state: 'RUNNING', pid: 11, known: 'RUNNING', knownPid: 10 },
    ]);
  });

  it('leaves alone what an event touched after the question, in the compare and in the forget step', () => {
    const known = new Map([
      ['a:a', k('STOPPED', null, 5)],
      ['gone:gone', k('STARTING', null, 5)],
      ['old:old', k('RUNNING', 3, 1)],
    ]);
    const { changes } = diffResync(known, [info('a', 'RUNNING', 9)], 2, always);
    expect(changes).toEqual([{ kind: 'forget', key: 'old:old' }]);
  });

  it('a process first seen RUNNING is adoptable only when the previous listener may have warmed it', () => {
    const known = new Map([
      ['a:a', k(null, null)],
      ['b:b', k(null, null)],
    ]);
    const out = diffResync(known, [info('a', 'RUNNING', 1), info('b', 'RUNNING', 2)], 0, (key) => key === 'a:a');
    expect(out.adoptable).toEqual(['a:a']);
    expect(out.changes).toEqual([{ kind: 'transition', key: 'b:b', state: 'RUNNING', pid: 2, known: null, knownPid: null }]);
  });
});
