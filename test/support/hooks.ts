// A test file's own stack of real processes: started once before its tests (a lost port race retried with
// fresh ports), always torn down after them.

import { afterAll, beforeAll } from 'vitest';
import { withFreshPorts } from './ports.js';

export function useStack(start: (attempt: number) => Promise<void>, teardown: () => Promise<void>, timeoutMs = 120_000): void {
  // The binaries bind ports picked a moment earlier: a start that lost one is torn down and tried again.
  beforeAll(() => withFreshPorts(start, teardown), timeoutMs);
  afterAll(teardown);
}
