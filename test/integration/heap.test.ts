// The heap watch's probe against a real V8: with --expose-gc it reads the old space and really collects it.

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../support/paths.js';

const SCRIPT = (v8Js: string): string => `
import { v8Heap } from ${JSON.stringify(v8Js)};
const heap = v8Heap();
// Objects kept long enough to be promoted, then dropped: old-space garbage.
let keep = [];
for (let i = 0; i < 200_000; i++) keep.push({ i, s: 'x' + i });
await new Promise((r) => setTimeout(r, 50));
keep = null;
const before = heap.oldSpaceUsed();
heap.collect();
console.log(JSON.stringify({ before, after: heap.oldSpaceUsed() }));
`;

describe('v8Heap with --expose-gc', () => {
  it('reads the old space and collects its garbage', () => {
    const v8Js = join(dirname(requireBuiltCli()), 'heap', 'v8.js');
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT(v8Js)], { encoding: 'utf8' });
    const { before, after } = JSON.parse(out) as { before: number; after: number };
    expect(before).toBeGreaterThan(after + 5_000_000);
    expect(after).toBeGreaterThan(0);
  });
});
