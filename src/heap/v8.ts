// The running V8's old space, and its collector when node was started with --expose-gc (dist/cli.js's shebang).

import { getHeapSpaceStatistics } from 'node:v8';
import type { HeapProbe } from './watch.js';

/** null when `gc` is not exposed: run as `node dist/cli.js` without the shebang's flags, say. */
export function v8Heap(): HeapProbe | null {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') return null;
  return {
    oldSpaceUsed: () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0,
    collect: () => void (gc as () => void)(),
  };
}
